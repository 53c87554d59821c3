package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MannWhitneyTest {

  @Test
  void smallSamplesWithoutTiesByHand() {
    // canary {3,4,5}, baseline {1,2}: every canary value is above, U = 6, mn/2 = 3.
    // sigma^2 = mn/12 * (m+n+1) = 6/12 * 6 = 3; z = (6 - 3 - 0.5)/sqrt(3) = 1.44338.
    // p = 2 * Phi(-1.44338) = erfc(1.44338/sqrt 2) = 0.148915 (Python's math.erfc).
    // Differences c - b: 2,1,3,2,4,3 -> sorted 1,2,2,3,3,4; median (2+3)/2 = 2.5.
    // k = floor(3 - 0.5 - 1.96*1.732) + 1 = floor(-0.89) + 1 = 0 -> at least 1: [1, 4].
    MannWhitneyResult result = MannWhitney.test(new double[] {3, 4, 5}, new double[] {1, 2},
        0.95);
    assertThat(result.u()).isEqualTo(6);
    assertThat(result.z()).isCloseTo(2.5 / Math.sqrt(3), within(1e-12));
    assertThat(result.pValue()).isCloseTo(0.14891467317876567, within(1e-12));
    assertThat(result.estimate()).isEqualTo(2.5);
    assertThat(result.lower()).isEqualTo(1);
    assertThat(result.upper()).isEqualTo(4);
  }

  @Test
  void tiesShrinkTheVarianceByHand() {
    // canary {2,3,3}, baseline {1,2}; pooled 1,2,2,3,3: two ties of 2, sum(t^3-t) = 12.
    // U = (2>1) 1 + (2=2) 0.5 + (3>1, 3>2) x2 = 4 -> 5.5; sigma^2 = 6/12 * (6 - 12/20) = 2.7.
    // z = (5.5 - 3 - 0.5)/sqrt(2.7) = 1.21716; p = erfc(z/sqrt 2) = 0.223543.
    MannWhitneyResult result = MannWhitney.test(new double[] {2, 3, 3}, new double[] {1, 2},
        0.95);
    assertThat(result.u()).isEqualTo(5.5);
    assertThat(result.pValue()).isCloseTo(0.2235428745713205, within(1e-12));
    // Differences 1,0,2,1,2,1 -> 0,1,1,1,2,2: median 1.
    assertThat(result.estimate()).isEqualTo(1);
  }

  @Test
  void intervalReadsTheRightOrderStatisticsByHand() {
    // canary 11..20, baseline 1..10: differences 1..19, value v occurring 10-|v-10| times.
    // sigma = sqrt(100/12 * 21) = 13.2288; k = floor(50 - 0.5 - 1.95996*13.2288) + 1 = 24.
    // Cumulative counts 1,3,6,10,15,21,28: the 24th smallest is 7, the 24th largest 13.
    // U = 100: z = 49.5/13.2288 = 3.74185, p = erfc(z/sqrt 2) = 1.82672e-4.
    double[] canary = new double[10];
    double[] baseline = new double[10];
    for (int i = 0; i < 10; i++) {
      canary[i] = 11 + i;
      baseline[i] = 1 + i;
    }
    MannWhitneyResult result = MannWhitney.test(canary, baseline, 0.95);
    assertThat(result.estimate()).isEqualTo(10);
    assertThat(result.lower()).isEqualTo(7);
    assertThat(result.upper()).isEqualTo(13);
    assertThat(result.pValue()).isCloseTo(0.0001826717911095504, within(1e-15));
    // The other way round, the shift and its interval change sign.
    MannWhitneyResult reverse = MannWhitney.test(baseline, canary, 0.95);
    assertThat(reverse.estimate()).isEqualTo(-10);
    assertThat(reverse.lower()).isEqualTo(-13);
    assertThat(reverse.upper()).isEqualTo(-7);
    assertThat(reverse.pValue()).isEqualTo(result.pValue());
  }

  @Test
  void kayentaConfidenceIntervalAndEstimate() {
    // kayenta-mannwhitney MannWhitneySuite "Mann-Whitney Confidence Interval & Estimate":
    // experiment {10,20,30,40}, control {1,2,3,4}, 95%: interval [6, 39], estimate 22.5.
    MannWhitneyResult result = MannWhitney.test(new double[] {10, 20, 30, 40},
        new double[] {1, 2, 3, 4}, 0.95);
    assertThat(result.lower()).isEqualTo(6);
    assertThat(result.upper()).isEqualTo(39);
    assertThat(result.estimate()).isEqualTo(22.5);
  }

  @Test
  void kayentaTieOutWithR() {
    // kayenta-mannwhitney MannWhitneySuite "Tie out with R Version": R's root finder gives
    // [-0.500002521696696, -3.486287505871302E-5], estimate -0.4999393907180323. Read off the
    // differences (all multiples of 0.5) the same points are -0.5, 0 and -0.5; the distance is
    // R's solver tolerance, so the check allows 1e-4.
    MannWhitneyResult result = MannWhitney.test(KayentaCases.TIE_EXPERIMENT,
        KayentaCases.TIE_CONTROL, 0.95);
    assertThat(result.lower()).isCloseTo(-0.500002521696696, within(1e-4));
    assertThat(result.upper()).isCloseTo(-3.486287505871302E-5, within(1e-4));
    assertThat(result.estimate()).isCloseTo(-0.4999393907180323, within(1e-4));
  }

  @Test
  void allTiedIsRefused() {
    assertThatThrownBy(() -> MannWhitney.test(new double[] {1, 1}, new double[] {1}, 0.95))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tied");
  }
}
