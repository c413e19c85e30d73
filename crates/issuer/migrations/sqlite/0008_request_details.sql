-- Schema 7 to 8: an activation file request's contact and order details, as the reference's
-- form asks them: the contact's name and e-mail, the deployment and implementation types and
-- the sales order or purchase order number. Requests sent before this schema have none.
ALTER TABLE requests ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN deployment_type TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN implementation_type TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN order_number TEXT NOT NULL DEFAULT '';
