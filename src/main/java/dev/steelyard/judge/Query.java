package dev.steelyard.judge;

/**
 * Where a metric's samples come from (source "prometheus" or "load"), interpreted by the metric
 * sources, not by the judge. Null when the samples are given inline.
 */
public record Query(String source, String template, String measure) {}
