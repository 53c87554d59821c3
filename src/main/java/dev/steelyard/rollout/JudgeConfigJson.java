package dev.steelyard.rollout;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.steelyard.judge.JudgeConfig;
import dev.steelyard.judge.JudgeRequestException;
import dev.steelyard.judge.JudgeRequests;
import dev.steelyard.judge.MetricConfig;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * A flow's metric configuration in JSON as the judge takes it ({@code POST /api/v1/judge}'s
 * {@code config}): read with the judge's own strict rules (defaults, errors naming the path) in
 * a start request and in the flow file, and written back in the same shape, so that a stored
 * flow reads as it was started.
 */
final class JudgeConfigJson {

  private JudgeConfigJson() {}

  static SimpleModule module() {
    SimpleModule module = new SimpleModule("steelyard-judge-config");
    module.addSerializer(JudgeConfig.class, new JsonSerializer<>() {
      @Override
      public void serialize(JudgeConfig config, JsonGenerator gen, SerializerProvider provider)
          throws IOException {
        write(config, gen);
      }
    });
    module.addDeserializer(JudgeConfig.class, new JsonDeserializer<>() {
      @Override
      public JudgeConfig deserialize(JsonParser parser, DeserializationContext context)
          throws IOException {
        JsonNode node = parser.readValueAsTree();
        try {
          return JudgeRequests.parseConfig(node, "judgment.analysis.metrics");
        } catch (JudgeRequestException e) {
          throw new InvalidFormatException(parser, e.getMessage(), node, JudgeConfig.class);
        }
      }
    });
    return module;
  }

  private static void write(JudgeConfig config, JsonGenerator gen) throws IOException {
    gen.writeStartObject();
    gen.writeArrayFieldStart("metrics");
    for (MetricConfig metric : config.metrics()) {
      gen.writeStartObject();
      gen.writeStringField("name", metric.name());
      gen.writeStringField("group", metric.group());
      gen.writeStringField("direction", lower(metric.direction()));
      gen.writeBooleanField("critical", metric.critical());
      gen.writeBooleanField("mustHaveData", metric.mustHaveData());
      gen.writeStringField("nanStrategy", lower(metric.nanStrategy()));
      gen.writeObjectFieldStart("effectSize");
      gen.writeNumberField("allowedIncrease", metric.effectSize().allowedIncrease());
      gen.writeNumberField("allowedDecrease", metric.effectSize().allowedDecrease());
      gen.writeNumberField("criticalIncrease", metric.effectSize().criticalIncrease());
      gen.writeNumberField("criticalDecrease", metric.effectSize().criticalDecrease());
      gen.writeEndObject();
      gen.writeObjectFieldStart("outliers");
      gen.writeStringField("strategy", metric.removeOutliers() ? "remove" : "keep");
      gen.writeNumberField("outlierFactor", metric.outlierFactor());
      gen.writeEndObject();
      gen.writeNumberField("confidence", metric.confidence());
      gen.writeNumberField("tolerance", metric.tolerance());
      if (metric.query() != null) {
        gen.writeObjectFieldStart("query");
        if (metric.query().source() != null) {
          gen.writeStringField("source", metric.query().source());
        }
        if (metric.query().template() != null) {
          gen.writeStringField("template", metric.query().template());
        }
        if (metric.query().measure() != null) {
          gen.writeStringField("measure", metric.query().measure());
        }
        gen.writeEndObject();
      }
      gen.writeEndObject();
    }
    gen.writeEndArray();
    gen.writeObjectFieldStart("groupWeights");
    for (Map.Entry<String, Double> weight : config.groupWeights().entrySet()) {
      gen.writeNumberField(weight.getKey(), weight.getValue());
    }
    gen.writeEndObject();
    gen.writeObjectFieldStart("thresholds");
    gen.writeNumberField("pass", config.thresholds().pass());
    gen.writeNumberField("marginal", config.thresholds().marginal());
    gen.writeEndObject();
    gen.writeEndObject();
  }

  private static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }
}
