package dev.steelyard.bench;

import java.util.List;
import java.util.Map;

/** Just enough JSON writing for the results (maps, lists, numbers, strings). */
final class Json {

  private Json() {}

  static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out, "");
    return out.append('\n').toString();
  }

  private static void write(Object v, StringBuilder out, String indent) {
    if (v instanceof Map<?, ?> map) {
      out.append("{");
      String inner = indent + "  ";
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(first ? "\n" : ",\n").append(inner);
        first = false;
        out.append('"').append(e.getKey()).append("\": ");
        write(e.getValue(), out, inner);
      }
      out.append(first ? "}" : "\n" + indent + "}");
    } else if (v instanceof List<?> list) {
      out.append("[");
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(", ");
        }
        write(list.get(i), out, indent);
      }
      out.append("]");
    } else if (v == null) {
      out.append("null");
    } else if (v instanceof Number || v instanceof Boolean) {
      out.append(v);
    } else {
      out.append('"').append(String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\""))
          .append('"');
    }
  }
}
