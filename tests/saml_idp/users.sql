-- The users of the test SAML IdP, loaded into DIR/users.db each time start_idp.sh starts it.
-- Test accounts only: passwords in plain text (the IdP's dbiAuthPasswordHash is empty).
-- groups: several joined by "; " (the IdP's multiValuesSeparator): one AttributeValue each.
CREATE TABLE users (
  user TEXT PRIMARY KEY,
  password TEXT NOT NULL,
  mail TEXT NOT NULL,
  cn TEXT NOT NULL,
  groups TEXT
);
INSERT INTO users VALUES ('alice', 'alice-saml-password', 'alice@example.org', 'Alice Example', 'admins; users');
INSERT INTO users VALUES ('bob', 'bob-saml-password', 'bob@example.org', 'Bob Example', 'users');
