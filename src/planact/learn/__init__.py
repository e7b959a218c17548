"""`planact learn`: the self-improvement loop. Each round rolls out the current policy with
exploration, keeps the rewarded trajectories, writes grounded plans and replanning data from them,
fine-tunes the executor, planner and replanner, validates on held-out seeds, and keeps the round's
adapters only if validation success rose. All state is on disk: a killed run resumes."""
