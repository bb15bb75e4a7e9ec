"""Working groups (Arbeitsgruppen) and the expert group of municipal companies (Fachgruppe): entities per
municipality with members (token subjects) and a topic store (Themenspeicher), the ideas that belong to them."""
