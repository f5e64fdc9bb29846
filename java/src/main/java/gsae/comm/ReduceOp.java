package gsae.comm;

/** How an all-reduce combines the ranks' elements. */
public enum ReduceOp {
    SUM, MIN, MAX
}
