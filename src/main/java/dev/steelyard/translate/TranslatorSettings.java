package dev.steelyard.translate;

/** The ports Envoy proxies listen on: the gateway's HTTP port and the sidecar's outbound port. */
public record TranslatorSettings(int gatewayPort, int sidecarPort) {

  public static final TranslatorSettings DEFAULTS = new TranslatorSettings(10080, 15001);
}
