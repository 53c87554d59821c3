package dev.steelyard.xds;

import java.time.Instant;

/** A proxy refused a version of a resource type; the message is the proxy's own. */
public record Nack(XdsType type, String rejectedVersion, String message, Instant at) {}
