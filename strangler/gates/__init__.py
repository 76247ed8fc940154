"""The can-flip verdict: every gate a step must pass before it is applied, judged in one place.

`strangle status` shows the verdict of the next step; `strangle apply` and `rollback` refuse
exactly when it is negative (strangler.gates.verdict.Verdicts is the Controller's gate). One
module per gate: health, copies (backfill and parity), lag, shadow, canary, contract.
"""
