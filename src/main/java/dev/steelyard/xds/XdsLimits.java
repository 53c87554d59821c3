package dev.steelyard.xds;

/**
 * What one xDS client may make the server hold. Each bound is well above what a real proxy
 * sends (an Envoy in a 1,000-app mesh names about 3,000 clusters; node ids are pod names) and
 * far below what exhausts memory.
 *
 * @param maxNamesPerRequest resource names in one request
 * @param maxNodeIdBytes node id and node cluster, each, in UTF-8 bytes
 * @param maxNodeMetadataBytes the node's metadata, serialized
 * @param maxRequestBytes one request message (gRPC's inbound message limit)
 * @param maxRequestsWhileBlocked requests a stream may send while a response to it waits
 *     because it does not read; past this it is closed
 * @param maxStreamsPerConnection concurrent streams on one connection (a proxy uses one)
 * @param maxConnections open connections on the port (a proxy uses one)
 */
public record XdsLimits(int maxNamesPerRequest, int maxNodeIdBytes, int maxNodeMetadataBytes,
    int maxRequestBytes, int maxRequestsWhileBlocked, int maxStreamsPerConnection,
    int maxConnections) {

  public static XdsLimits defaults() {
    return new XdsLimits(50_000, 1024, 16 * 1024, 8 << 20, 1_000, 16, 16_384);
  }

  public XdsLimits withMaxConnections(int max) {
    return new XdsLimits(maxNamesPerRequest, maxNodeIdBytes, maxNodeMetadataBytes,
        maxRequestBytes, maxRequestsWhileBlocked, maxStreamsPerConnection, max);
  }
}
