-- The raw source systems of a call centre, as the generator loads them.
-- These are the "sources" of the dbt project; the data map (dbt source meta)
-- describes who each row is about and what personal data each column holds.
-- Loaded with bulk COPY by steward.seed; indexes and keys added after the load.

create schema if not exists crm;
create schema if not exists telephony;
create schema if not exists billing;
create schema if not exists marketing;
create schema if not exists support;
create schema if not exists compliance;

create table crm.customers (
    customer_id bigint not null,
    first_name text,
    last_name text,
    email text,
    date_of_birth date,
    gender text,                -- 'F' | 'M' | 'X' | null
    country_code char(2),       -- ISO 3166-1 alpha-2, the region hint for phones
    state_code text,            -- US/CA/BR state or province, null elsewhere
    status text not null,       -- 'active' | 'closed'
    created_at timestamptz not null,
    updated_at timestamptz not null,
    last_contact_at timestamptz,
    closed_at timestamptz,
    attr_3 text                 -- legacy CRM custom field: holds a national id (SSN) for US customers
);

create table crm.customer_phones (
    phone_id bigint not null,
    customer_id bigint not null,
    phone_raw text,             -- as typed by agents: many national/international formats, typos
    phone_kind text,            -- 'mobile' | 'home' | 'work'
    is_primary boolean not null,
    is_disconnected boolean not null,
    created_at timestamptz not null
);

create table crm.customer_addresses (
    address_id bigint not null,
    customer_id bigint not null,
    street text,
    city text,
    postal_code text,
    state_code text,
    country_code char(2),
    created_at timestamptz not null
);

create table telephony.agents (
    agent_id integer not null,
    agent_name text,
    extension text,
    team text,
    hired_at date
);

create table telephony.calls (
    call_id bigint not null,
    customer_id bigint,         -- null when the caller was not identified
    direction text not null,    -- 'inbound' | 'outbound'
    caller_number text,
    callee_number text,
    agent_id integer,
    campaign_id integer,        -- outbound campaign calls only
    started_at timestamptz not null,
    ended_at timestamptz not null,
    duration_seconds integer not null,
    disposition text not null   -- 'connected' | 'no_answer' | 'busy' | 'failed' | 'voicemail'
);

create table telephony.call_recordings (
    recording_id bigint not null,
    call_id bigint not null,
    storage_path text not null, -- path of a real audio file on disk
    recording_consent boolean not null,
    customer_state text,        -- the customer's state at call time (all-party consent rules)
    recorded_at timestamptz not null
);

create table telephony.transcripts (
    transcript_id bigint not null,
    call_id bigint not null,
    language text,
    body text,                  -- free text: mentions names, phones, cards, SSNs, e-mails
    created_at timestamptz not null
);

create table billing.invoices (
    invoice_id bigint not null,
    customer_id bigint not null,
    issued_at date not null,
    amount numeric(12, 2) not null,
    currency char(3) not null,
    billing_address text,
    status text not null        -- 'open' | 'paid' | 'void'
);

create table billing.payments (
    payment_id bigint not null,
    invoice_id bigint not null,
    customer_id bigint not null,
    amount numeric(12, 2) not null,
    currency char(3) not null,
    card_number text,           -- some full PANs (legacy), most masked '************1234'
    card_expiry text,           -- 'MM/YY'
    paid_at timestamptz not null
);

create table marketing.campaigns (
    campaign_id integer not null,
    campaign_name text not null,
    channel text not null,      -- 'phone' | 'email' | 'sms'
    started_at date not null,
    ended_at date
);

create table marketing.campaign_contacts (
    contact_id bigint not null,
    campaign_id integer not null,
    customer_id bigint,
    phone text,
    email text,
    contacted_at timestamptz not null,
    outcome text
);

create table marketing.opt_outs (
    opt_out_id bigint not null,
    customer_id bigint,
    phone text,
    email text,
    channel text not null,      -- 'phone' | 'email' | 'sms' | 'all'
    opted_out_at timestamptz not null,
    source text                 -- 'call' | 'web' | 'email_link'
);

create table support.tickets (
    ticket_id bigint not null,
    customer_id bigint,
    opened_at timestamptz not null,
    closed_at timestamptz,
    category text,
    priority text,
    status text not null,       -- 'open' | 'pending' | 'closed'
    notes text                  -- free-text agent notes: PII hides here
);

create table compliance.dnc_registry (
    phone_number text not null, -- 10 digits, as in the national registry download
    snapshot_date date not null,
    source_file text not null
);

create table compliance.consents (
    consent_id bigint not null,
    customer_id bigint not null,
    phone text,
    consent_type text not null, -- 'express_written' | 'ebr_purchase' | 'ebr_inquiry' | 'call_recording'
    granted_at timestamptz not null,
    revoked_at timestamptz
);

create table compliance.legal_holds (
    hold_id integer not null,
    case_reference text not null,
    scope text not null,        -- 'subject' | 'record' | 'table'
    customer_id bigint,         -- scope = 'subject'
    source_table text,          -- scope = 'record' | 'table': 'schema.table'
    record_key text,            -- scope = 'record': the primary key value
    date_from date,             -- scope = 'table': rows whose clock falls in [date_from, date_to]
    date_to date,
    placed_at timestamptz not null,
    expires_at timestamptz,
    released_at timestamptz
);
