"""The strategy process of the ideas service: working groups' sub-concepts (Teilkonzepte) that
integrate ideas, and the strategy draft whose versions link them, go out for feedback and end in
the council's decision; milestones tied to these steps are reached by the steps themselves."""
