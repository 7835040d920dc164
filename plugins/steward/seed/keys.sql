-- Keys and indexes, added after the bulk load (much faster than maintaining
-- them row by row). No foreign keys: erasure jobs delete across systems in
-- their own order, as the real source systems would let them.

alter table crm.customers add primary key (customer_id);
alter table crm.customer_phones add primary key (phone_id);
create index on crm.customer_phones (customer_id);
alter table crm.customer_addresses add primary key (address_id);
create index on crm.customer_addresses (customer_id);

alter table telephony.agents add primary key (agent_id);
alter table telephony.calls add primary key (call_id);
create index on telephony.calls (customer_id);
alter table telephony.call_recordings add primary key (recording_id);
create index on telephony.call_recordings (call_id);
alter table telephony.transcripts add primary key (transcript_id);
create index on telephony.transcripts (call_id);

alter table billing.invoices add primary key (invoice_id);
create index on billing.invoices (customer_id);
alter table billing.payments add primary key (payment_id);
create index on billing.payments (customer_id);
create index on billing.payments (invoice_id);

alter table marketing.campaigns add primary key (campaign_id);
alter table marketing.campaign_contacts add primary key (contact_id);
create index on marketing.campaign_contacts (customer_id);
alter table marketing.opt_outs add primary key (opt_out_id);
create index on marketing.opt_outs (customer_id);

alter table support.tickets add primary key (ticket_id);
create index on support.tickets (customer_id);

alter table compliance.dnc_registry
add primary key (phone_number, snapshot_date);
alter table compliance.consents add primary key (consent_id);
create index on compliance.consents (customer_id);
alter table compliance.legal_holds add primary key (hold_id);

alter table steward_ground_truth.phone_cases
add primary key (phone_id);
