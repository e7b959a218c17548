"""The synthetic-data pipeline of Plan-and-Act (§4): queries, trajectories scored by an outcome
reward model, grounded plans, plan expansion, targeted augmentation, CoT and replanning data, and
export to training sets. Every stage appends provenance-carrying records and resumes."""
