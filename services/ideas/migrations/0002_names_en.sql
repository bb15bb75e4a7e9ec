-- English names beside the German ones: pages and mails show names, never slugs, in both languages.
ALTER TABLE municipalities ADD COLUMN name_en text;
ALTER TABLE fields_of_action ADD COLUMN name_en text;

UPDATE municipalities SET name_en = name;  -- place names stay as they are (Gera, Großenhain)

UPDATE fields_of_action f SET name_en = v.name_en FROM (VALUES
    ('gera', 'bauen-wohnen-lebensraum', 'Building, housing and living space'),
    ('gera', 'energie', 'Energy'),
    ('gera', 'mobilitaet-infrastruktur', 'Mobility and infrastructure'),
    ('gera', 'tourismus-kultur-freizeit', 'Tourism, culture and leisure'),
    ('gera', 'umwelt', 'Environment'),
    ('gera', 'wirtschaft-innovationskraft', 'Economy and innovation'),
    ('grossenhain', 'verwaltung', 'Administration'),
    ('grossenhain', 'bildung', 'Education'),
    ('grossenhain', 'gesundheit', 'Health'),
    ('grossenhain', 'mobilitaet', 'Mobility')
) AS v (municipality, slug, name_en) WHERE f.municipality = v.municipality AND f.slug = v.slug;

UPDATE fields_of_action SET name_en = name WHERE name_en IS NULL;
ALTER TABLE municipalities ALTER COLUMN name_en SET NOT NULL;
ALTER TABLE fields_of_action ALTER COLUMN name_en SET NOT NULL;
