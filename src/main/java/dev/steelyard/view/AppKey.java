package dev.steelyard.view;

import java.util.Objects;

/** Identity of an app: its namespace and name. Printed and parsed as {@code namespace/name}. */
public record AppKey(String namespace, String name) implements Comparable<AppKey> {

  public AppKey {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  public static AppKey parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
      throw new IllegalArgumentException("app key '" + text + "' is not of the form namespace/name");
    }
    return new AppKey(text.substring(0, slash), text.substring(slash + 1));
  }

  @Override
  public int compareTo(AppKey other) {
    int byNamespace = namespace.compareTo(other.namespace);
    return byNamespace != 0 ? byNamespace : name.compareTo(other.name);
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
