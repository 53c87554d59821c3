package dev.steelyard.source.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import java.util.Map;

/**
 * The pods and Services the Kubernetes tests need, for the mock and the real API server alike. A
 * pod's status here reaches a real server only through the status subresource
 * ({@code RealCluster.createPod} writes it so).
 */
public final class KubeObjects {

  private KubeObjects() {}

  public static Service service(String namespace, String name, String appLabel, int port,
      IntOrString targetPort, String portName) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name)
        .addToAnnotations("steelyard.dev/gateway-hosts", name + ".example.com")
        .endMetadata()
        .withNewSpec()
        .addToSelector(appLabel, name)
        .withPorts(new ServicePortBuilder().withName(portName).withPort(port)
            .withTargetPort(targetPort).build())
        .endSpec()
        .build();
  }

  public static Pod pod(String namespace, String name, Map<String, String> labels, String ip,
      boolean ready, Map<String, Integer> namedPorts) {
    PodBuilder pod = new PodBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).withLabels(labels)
        .endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("app")
        .withPorts(namedPorts.entrySet().stream()
            .map(p -> new ContainerPortBuilder().withName(p.getKey())
                .withContainerPort(p.getValue()).build())
            .toList())
        .endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
        .endStatus();
    return pod.build();
  }
}
