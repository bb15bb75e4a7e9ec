-- Working groups (Arbeitsgruppen) and the expert group of municipal companies (Fachgruppe) as entities:
-- an idea's topic store is its group, by id, so a typo can no longer open a new store.
CREATE TABLE working_groups (
    id              uuid PRIMARY KEY,
    municipality    text NOT NULL REFERENCES municipalities (slug),
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('working_group', 'expert_group')),
    field_of_action text,
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (municipality, field_of_action) REFERENCES fields_of_action (municipality, slug)
);
CREATE UNIQUE INDEX working_groups_name ON working_groups (municipality, lower(name));

CREATE TABLE working_group_members (
    working_group_id uuid NOT NULL REFERENCES working_groups (id),
    member_id        text NOT NULL,  -- opaque token subject
    added_at         timestamptz NOT NULL,
    PRIMARY KEY (working_group_id, member_id)
);
CREATE INDEX working_group_members_by_member ON working_group_members (member_id);

ALTER TABLE ideas ADD COLUMN working_group_id uuid REFERENCES working_groups (id);
CREATE INDEX ideas_by_working_group_id ON ideas (working_group_id) WHERE working_group_id IS NOT NULL;

-- Existing free-text topic stores become groups (one per name, spelled as first used); no event is
-- emitted for these: they are the state the contract's consumers already saw as `working_group` names.
INSERT INTO working_groups (id, municipality, name, kind, created_at)
SELECT gen_random_uuid(), municipality, name, 'working_group', first_used
FROM (SELECT DISTINCT ON (municipality, lower(working_group)) municipality, working_group AS name,
             min(created_at) OVER (PARTITION BY municipality, lower(working_group)) AS first_used
      FROM ideas WHERE working_group IS NOT NULL
      ORDER BY municipality, lower(working_group), created_at) AS stores;

UPDATE ideas i SET working_group_id = g.id
FROM working_groups g
WHERE i.working_group IS NOT NULL AND g.municipality = i.municipality AND lower(g.name) = lower(i.working_group);
