-- Who asked to subscribe an address while signed in. The address is linked to that account
-- (subscribers.subject) only once its owner confirms from the mail: an address is never
-- linked to, or taken over by, an account its owner did not confirm.
ALTER TABLE subscribers ADD COLUMN pending_subject text;
