package dev.steelyard.feedback;

import java.time.Instant;

/** A proxy refused a version of a resource type; the message is the proxy's own. */
public record Nack(String type, String rejectedVersion, String message, Instant at) {}
