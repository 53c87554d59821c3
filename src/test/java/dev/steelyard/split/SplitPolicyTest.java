package dev.steelyard.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.view.SubsetWeights;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SplitPolicyTest {

  @ParameterizedTest(name = "{0} {1} -> {2}/{3}/{4}")
  @CsvSource({
      "off,    0,     10000, 0,    0",
      "test,   0,     10000, 0,    0",
      "test,   10,    9000,  0,    1000",
      "test,   100,   0,     0,    10000",
      "test,   0.01,  9999,  0,    1",
      "deploy, 0,     10000, 0,    0",
      "deploy, 1,     9800,  100,  100",
      "deploy, 5,     9000,  500,  500",
      "deploy, 25,    5000,  2500, 2500",
      "deploy, 50,    0,     5000, 5000",
      "deploy, 12.25, 7550,  1225, 1225",
  })
  void weightsFollowTheFlows(String mode, double n, int main, int baseline, int canary)
      throws InvalidSplitException {
    assertThat(SplitPolicy.of(mode, n).weights())
        .isEqualTo(new SubsetWeights(main, baseline, canary));
  }

  @ParameterizedTest(name = "{0} {1}: {2}")
  @CsvSource(delimiter = '|', value = {
      "test   | 100.01 | out of range for mode test",
      "deploy | 51     | out of range for mode deploy",
      "deploy | -0.5   | is negative",
      "test   | 1.001  | finer than 0.01 %",
      "test   | 0.005  | finer than 0.01 %",
      "off    | 1      | mode off takes no canaryWeight",
      "canary | 1      | unknown mode 'canary'",
      "OFF    | 0      | unknown mode 'OFF'",
      "''     | 1      | mode is required",
  })
  void badInputIsRejectedWithAReason(String mode, double n, String reason) {
    assertThatThrownBy(() -> SplitPolicy.of(mode, n))
        .isInstanceOf(InvalidSplitException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void testAndDeployNeedTheirWeightWhenItCanBeAbsent() throws InvalidSplitException {
    assertThatThrownBy(() -> SplitPolicy.of("test", OptionalDouble.empty()))
        .hasMessage("mode test needs canaryWeight: 0 <= n <= 100");
    assertThatThrownBy(() -> SplitPolicy.of("deploy", OptionalDouble.empty()))
        .hasMessage("mode deploy needs canaryWeight: 0 <= n <= 50");
    assertThat(SplitPolicy.of("off", OptionalDouble.empty())).isEqualTo(SplitPolicy.OFF);
    assertThat(SplitPolicy.of("test", OptionalDouble.of(0)).weights())
        .isEqualTo(SubsetWeights.ALL_MAIN);
  }

  @Test
  void nonFiniteWeightsAreRejected() {
    assertThatThrownBy(() -> SplitPolicy.of("test", Double.NaN))
        .hasMessageContaining("finite");
    assertThatThrownBy(() -> SplitPolicy.of("test", Double.POSITIVE_INFINITY))
        .hasMessageContaining("finite");
  }

  @Test
  void twoDecimalPercentagesSurviveDoubleArithmetic() throws InvalidSplitException {
    // 0.07 and 33.33 are not exact in binary; they must still map to whole basis points.
    assertThat(SplitPolicy.of("test", 0.07).canaryBasisPoints()).isEqualTo(7);
    assertThat(SplitPolicy.of("test", 33.33).canaryBasisPoints()).isEqualTo(3333);
  }

  @Test
  void aComputedWeightWithBinaryNoiseIsRejectedNotRounded() {
    // 0.1 + 0.2 is 0.30000000000000004: the caller must send the weight it means.
    assertThatThrownBy(() -> SplitPolicy.of("test", 0.1 + 0.2))
        .hasMessageContaining("0.30000000000000004 is finer than 0.01 %");
  }
}
