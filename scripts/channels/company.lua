-- scripts/channels/company.lua: who the messages come from. The engine puts
-- these in every render as company.* and payment.link (the link gets the
-- debt's id appended). Set them to the collector's own details before use.
return {
    name = "Example Recovery Services",
    phone = "1-800-555-0100",
    hours = "Mon-Fri 8am-8pm ET",
    payment_link = "https://pay.example.com/d/",
    ca_license = "10000-00", -- California Debt Collection License number (Cal. Fin. Code 100000 et seq.)
}
