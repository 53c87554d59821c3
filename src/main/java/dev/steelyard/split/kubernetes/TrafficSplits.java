package dev.steelyard.split.kubernetes;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The {@code TrafficSplit} custom resource ({@code steelyard.dev/v1alpha1}), one per app, named
 * like the app's Service and in its namespace:
 *
 * <pre>
 * spec:
 *   mesh:    {mode: deploy, canaryWeight: 1}
 *   gateway: {mode: deploy, canaryWeight: 5}   # optional; absent: the gateway follows the mesh
 * </pre>
 *
 * <p>Values are checked by {@link SplitPolicy#of}, the same rules as the REST API and the file
 * store. The CRD's schema already refuses an unknown mode, a weight outside 0..100 and deploy
 * above 50 at the API server; what it cannot say (steps of 0.01, {@code off} with a weight) and a
 * resource stored under an older CRD reach this class and are refused here.
 */
public final class TrafficSplits {

  public static final String GROUP = "steelyard.dev";
  public static final String VERSION = "v1alpha1";
  public static final String KIND = "TrafficSplit";
  public static final String PLURAL = "trafficsplits";
  public static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
      .withGroup(GROUP).withVersion(VERSION).withKind(KIND).withPlural(PLURAL)
      .withNamespaced(true).build();

  private TrafficSplits() {}

  public static AppKey key(GenericKubernetesResource resource) {
    return new AppKey(resource.getMetadata().getNamespace(), resource.getMetadata().getName());
  }

  /** Reads and validates the spec; messages name the field, e.g. {@code spec.gateway: ...}. */
  public static AppSplits parse(GenericKubernetesResource resource) throws InvalidSplitException {
    Object spec = resource.getAdditionalProperties().get("spec");
    if (!(spec instanceof Map<?, ?> specMap)) {
      throw new InvalidSplitException("spec is missing");
    }
    Object mesh = specMap.get("mesh");
    if (mesh == null) {
      throw new InvalidSplitException("spec.mesh is required");
    }
    SplitPolicy meshPolicy = policy("spec.mesh", mesh);
    Object gateway = specMap.get("gateway");
    Optional<SplitPolicy> gatewayPolicy = gateway == null ? Optional.empty()
        : Optional.of(policy("spec.gateway", gateway));
    return new AppSplits(meshPolicy, gatewayPolicy);
  }

  /**
   * The split a replica last applied, from {@code status.applied}; lets a replica that starts
   * while the spec is invalid serve what the others serve instead of falling back to off.
   */
  public static Optional<AppSplits> lastApplied(GenericKubernetesResource resource) {
    Object status = resource.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> statusMap)
        || !(statusMap.get("applied") instanceof Map<?, ?> applied)
        || applied.get("mesh") == null) {
      return Optional.empty();
    }
    try {
      Object gateway = applied.get("gateway");
      return Optional.of(new AppSplits(policy("status.applied.mesh", applied.get("mesh")),
          gateway == null ? Optional.empty()
              : Optional.of(policy("status.applied.gateway", gateway))));
    } catch (InvalidSplitException e) {
      return Optional.empty();
    }
  }

  /** The {@code status.observedGeneration} a replica last wrote, if any. */
  static Optional<Long> lastObservedGeneration(GenericKubernetesResource resource) {
    return resource.getAdditionalProperties().get("status") instanceof Map<?, ?> status
        && status.get("observedGeneration") instanceof Number generation
        ? Optional.of(generation.longValue()) : Optional.empty();
  }

  private static SplitPolicy policy(String where, Object value) throws InvalidSplitException {
    if (!(value instanceof Map<?, ?> map)) {
      throw new InvalidSplitException(where + " must be an object with mode and canaryWeight");
    }
    Object mode = map.get("mode");
    if (mode != null && !(mode instanceof String)) {
      throw new InvalidSplitException(where + ".mode must be a string: off, test or deploy");
    }
    Object weight = map.get("canaryWeight");
    OptionalDouble percent;
    if (weight == null) {
      percent = OptionalDouble.empty();
    } else if (weight instanceof Number number) {
      percent = OptionalDouble.of(number.doubleValue());
    } else {
      throw new InvalidSplitException(where + ".canaryWeight must be a number, got '" + weight
          + "'");
    }
    try {
      return SplitPolicy.of((String) mode, percent);
    } catch (InvalidSplitException e) {
      throw new InvalidSplitException(where + ": " + e.getMessage());
    }
  }

  /** The spec that stores {@code splits}. */
  public static Map<String, Object> spec(AppSplits splits) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("mesh", policyMap(splits.mesh()));
    splits.gatewayOverride().ifPresent(gateway -> spec.put("gateway", policyMap(gateway)));
    return spec;
  }

  /** {@code {mode, canaryWeight}}; whole percentages are written as integers, as people do. */
  public static Map<String, Object> policyMap(SplitPolicy policy) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("mode", policy.mode().label());
    map.put("canaryWeight", percentValue(policy.canaryBasisPoints()));
    return map;
  }

  public static Object percentValue(int basisPoints) {
    return basisPoints % 100 == 0 ? (Object) (basisPoints / 100)
        : (Object) (basisPoints / 100.0);
  }

  public static GenericKubernetesResource newResource(AppKey key, AppSplits splits) {
    GenericKubernetesResource resource = new GenericKubernetesResource();
    resource.setApiVersion(GROUP + "/" + VERSION);
    resource.setKind(KIND);
    resource.setMetadata(new ObjectMetaBuilder()
        .withNamespace(key.namespace()).withName(key.name()).build());
    resource.setAdditionalProperty("spec", spec(splits));
    return resource;
  }
}
