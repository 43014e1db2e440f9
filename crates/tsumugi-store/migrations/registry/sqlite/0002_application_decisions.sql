-- Committee decisions (tsumugi-govern): the reason given when an application is rejected.
-- Conditions of an approval stay in `applications.conditions`, now as a JSON array of strings.
ALTER TABLE applications ADD COLUMN decision_reason TEXT NOT NULL DEFAULT '';
