"""The personal-data categories the catalogue reports, in the project's dotted taxonomy."""

from __future__ import annotations

FIRST_NAME = "user.name.first"
LAST_NAME = "user.name.last"
FULL_NAME = "user.name"
EMAIL = "user.contact.email"
PHONE = "user.contact.phone_number"
STREET = "user.contact.address.street"
CITY = "user.contact.address.city"
POSTAL_CODE = "user.contact.address.postal_code"
DATE_OF_BIRTH = "user.demographic.date_of_birth"
GENDER = "user.demographic.gender"
AGE = "user.demographic.age"
NATIONAL_ID = "user.government_id.national_id"
CARD_NUMBER = "user.financial.card_number"
BANK_ACCOUNT = "user.financial.bank_account"
IP_ADDRESS = "user.device.ip_address"
VIN = "user.vehicle.vin"
FREE_TEXT = "user.content.free_text"
CALL_RECORDING = "user.content.call_recording"
EMPLOYEE_NAME = "employee.name"

ALL = (
    FIRST_NAME,
    LAST_NAME,
    FULL_NAME,
    EMAIL,
    PHONE,
    STREET,
    CITY,
    POSTAL_CODE,
    DATE_OF_BIRTH,
    GENDER,
    AGE,
    NATIONAL_ID,
    CARD_NUMBER,
    BANK_ACCOUNT,
    IP_ADDRESS,
    VIN,
    FREE_TEXT,
    CALL_RECORDING,
    EMPLOYEE_NAME,
)
