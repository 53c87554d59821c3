package dev.steelyard.judge;

/**
 * One check of the sequential count test. {@code evidence} is the mixture likelihood ratio
 * (the e-value; CANARY_WORSE once it reaches 1/alpha), {@code alwaysValidP} = min(1, 1/evidence),
 * valid whenever it is looked at. {@code canaryShare} is the canary's share of the requests, the
 * null hypothesis' probability that an error is the canary's.
 */
public record CountDecision(CountOutcome outcome, double alwaysValidP, double evidence,
    double alpha, double canaryShare, double baselineErrorRate, double canaryErrorRate,
    long baselineErrors, long baselineRequests, long canaryErrors, long canaryRequests,
    String reason) {}
