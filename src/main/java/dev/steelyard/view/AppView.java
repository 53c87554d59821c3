package dev.steelyard.view;

/** An app with the weights its mesh and gateway traffic get. */
public record AppView(AppSpec spec, TrafficWeights mesh, TrafficWeights gateway) {

  public AppKey key() {
    return spec.key();
  }
}
