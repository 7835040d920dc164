"""Free text: call transcripts and ticket notes, with PII where people put it.

Each text is assembled from a few sentence templates chosen by small integers
the caller draws with numpy, so the output is deterministic and cheap. Some
texts carry no personal data at all: scanners must not flag everything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    """The personal data a text may mention (None: not available for this row)."""

    first_name: str
    last_name: str
    agent_first_name: str
    phone: str | None
    email: str | None
    card: str | None
    card_expiry: str | None
    ssn: str | None


_GREETING = {
    "en": (
        "Agent: Thank you for calling, my name is {agent}. How can I help you today?",
        "Agent: Good morning, you're speaking with {agent}. What can I do for you?",
        "Agent: Thanks for holding, this is {agent}.",
    ),
    "es": ("Agente: Gracias por llamar, le atiende {agent}. ¿En qué puedo ayudarle?",),
    "fr": ("Agent : Merci de votre appel, je suis {agent}. Que puis-je faire pour vous ?",),
    "de": ("Agent: Vielen Dank für Ihren Anruf, mein Name ist {agent}. Wie kann ich helfen?",),
    "pt": ("Agente: Obrigado por ligar, aqui é {agent}. Como posso ajudar?",),
}
_IDENTITY = {
    "en": (
        "Customer: Hi, this is {first} {last}, I'm calling about my last bill.",
        "Customer: Yes hello, {first} {last} here. My internet has been down since Monday.",
        "Customer: Hi {agent}, it's {first} {last}. I want to cancel my plan.",
    ),
    "es": ("Cliente: Hola, soy {first} {last}, llamo por mi última factura.",),
    "fr": ("Client : Bonjour, c'est {first} {last}, j'appelle pour ma dernière facture.",),
    "de": ("Kunde: Hallo, hier ist {first} {last}, es geht um meine letzte Rechnung.",),
    "pt": ("Cliente: Oi, aqui é {first} {last}, estou ligando sobre minha última fatura.",),
}
_PHONE = {
    "en": (
        "Agent: Can you confirm the phone number on the account?\nCustomer: Sure, it's {phone}.",
        "Customer: You can call me back at {phone} after five.",
    ),
    "es": ("Agente: ¿Me confirma su número?\nCliente: Claro, es el {phone}.",),
    "fr": ("Agent : Pouvez-vous confirmer votre numéro ?\nClient : Oui, c'est le {phone}.",),
    "de": ("Agent: Können Sie mir Ihre Nummer bestätigen?\nKunde: Ja, die {phone}.",),
    "pt": ("Agente: Pode confirmar seu telefone?\nCliente: Claro, é {phone}.",),
}
_EMAIL = {
    "en": (
        "Customer: Please send the confirmation to {email}.",
        "Agent: I have your e-mail as {email}, is that still right?\nCustomer: Yes.",
    ),
    "es": ("Cliente: Mándeme la confirmación a {email}, por favor.",),
    "fr": ("Client : Envoyez la confirmation à {email}, s'il vous plaît.",),
    "de": ("Kunde: Bitte schicken Sie die Bestätigung an {email}.",),
    "pt": ("Cliente: Pode mandar a confirmação para {email}.",),
}
_CARD = {
    "en": (
        "Customer: I'll pay with my card, the number is {card}, expiry {expiry}.",
        "Customer: Let me read the card... {card}, it expires {expiry}.",
    ),
    "es": ("Cliente: Pago con la tarjeta {card}, vence el {expiry}.",),
    "fr": ("Client : Je paie avec la carte {card}, expiration {expiry}.",),
    "de": ("Kunde: Ich zahle mit der Karte {card}, gültig bis {expiry}.",),
    "pt": ("Cliente: Vou pagar com o cartão {card}, validade {expiry}.",),
}
_SSN = (
    "Agent: For verification, the last four of your social, please.\n"
    "Customer: Oh, the whole thing is {ssn}.",
    "Customer: My social is {ssn} if you need it.",
)
_CLOSING = {
    "en": (
        "Agent: Is there anything else I can help you with?\nCustomer: No, that's all. Thanks.",
        "Agent: You're all set. Have a great day!",
    ),
    "es": ("Agente: ¿Algo más?\nCliente: No, gracias.",),
    "fr": ("Agent : Autre chose ?\nClient : Non, merci.",),
    "de": ("Agent: Kann ich sonst noch helfen?\nKunde: Nein, danke.",),
    "pt": ("Agente: Mais alguma coisa?\nCliente: Não, obrigado.",),
}
_SMALL_TALK = (
    "Customer: I'm calling to ask about your opening hours over the holidays.\n"
    "Agent: We're open nine to five, closed on the twenty-fifth.",
    "Customer: Is there an outage in my area?\nAgent: Let me check. Yes, crews are on it.",
    "Customer: How do I change my plan online?\nAgent: Under Account, then Plans.",
)


def transcript(language: str, mention: Mention, picks: tuple[int, ...]) -> str:
    """A call transcript; ``picks`` are small random integers chosen by the caller."""
    pick_greeting, pick_body, pick_phone, pick_email, pick_card, pick_closing, style = picks
    fields = {
        "agent": mention.agent_first_name,
        "first": mention.first_name,
        "last": mention.last_name,
        "phone": mention.phone,
        "email": mention.email,
        "card": mention.card,
        "expiry": mention.card_expiry,
        "ssn": mention.ssn,
    }
    lines = [_pick(_GREETING, language, pick_greeting)]
    if style == 0:  # no personal data beyond the agent's name
        lines.append(_SMALL_TALK[pick_body % len(_SMALL_TALK)])
    else:
        lines.append(_pick(_IDENTITY, language, pick_body))
        if mention.phone:
            lines.append(_pick(_PHONE, language, pick_phone))
        if mention.email:
            lines.append(_pick(_EMAIL, language, pick_email))
        if mention.card:
            lines.append(_pick(_CARD, language, pick_card))
        if mention.ssn:
            lines.append(_SSN[pick_card % len(_SSN)])
    lines.append(_pick(_CLOSING, language, pick_closing))
    return "\n".join(lines).format(**fields)


_NOTE_OPENERS = (
    "Cust {first} {last} called re: billing dispute.",
    "{first} {last} says the router keeps rebooting.",
    "Caller ({first}) wants to downgrade plan.",
    "Spoke to {first} {last}; escalated to tier 2.",
)
_NOTE_PHONE = (
    "Callback requested at {phone}.",
    "Best number to reach: {phone} (after 5pm).",
    "cb# {phone}",
)
_NOTE_EMAIL = ("Sent summary to {email}.", "Cust asked for invoice copy by mail to {email}")
_NOTE_CARD = ("Card on file {card} declined twice, cust read it out again.",)
_NOTE_SSN = ("Verified identity with SSN {ssn}.",)
_NOTE_PLAIN = (
    "Reset modem remotely, issue resolved.",
    "Duplicate of earlier ticket, closing.",
    "Waiting on field technician visit.",
    "Explained late fee policy.",
)


def ticket_note(mention: Mention, picks: tuple[int, ...]) -> str:
    pick_opener, pick_phone, pick_email, pick_plain, style = picks
    fields = {
        "first": mention.first_name,
        "last": mention.last_name,
        "phone": mention.phone,
        "email": mention.email,
        "card": mention.card,
        "ssn": mention.ssn,
    }
    if style == 0:  # notes without personal data
        return _NOTE_PLAIN[pick_plain % len(_NOTE_PLAIN)]
    parts = [_NOTE_OPENERS[pick_opener % len(_NOTE_OPENERS)]]
    if mention.phone:
        parts.append(_NOTE_PHONE[pick_phone % len(_NOTE_PHONE)])
    if mention.email:
        parts.append(_NOTE_EMAIL[pick_email % len(_NOTE_EMAIL)])
    if mention.card:
        parts.append(_NOTE_CARD[0])
    if mention.ssn:
        parts.append(_NOTE_SSN[0])
    parts.append(_NOTE_PLAIN[pick_plain % len(_NOTE_PLAIN)])
    return " ".join(parts).format(**fields)


def _pick(table: dict[str, tuple[str, ...]], language: str, pick: int) -> str:
    options = table.get(language) or table["en"]
    return options[pick % len(options)]
