"""The shadow comparison: what the shadow backend answered against what the primary did, noise
learned from the primary itself (as Twitter's Diffy does), per route, and the flip hook that
keeps a step leaving a shadow step from being applied until the comparison passes."""
