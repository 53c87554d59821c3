package dev.steelyard.judge;

/**
 * One group's score: 100 * pass / (metrics with data), and the weight it carried in the total.
 * A group with no data scores 0 but counts as 100 in the total, as in Kayenta.
 */
public record GroupResult(String name, double score, double weight, boolean noData, int metrics,
    int passed) {}
