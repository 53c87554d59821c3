package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NormalTest {

  @Test
  void cdfMatchesTabulatedValues() {
    // Tabulated standard normal values (to the digits given in any table).
    assertThat(Normal.cdf(0)).isCloseTo(0.5, within(1e-15));
    assertThat(Normal.cdf(1.959963984540054)).isCloseTo(0.975, within(1e-14));
    assertThat(Normal.cdf(-1)).isCloseTo(0.15865525393145707, within(1e-14));
    assertThat(Normal.cdf(-3)).isCloseTo(0.0013498980316301, within(1e-15));
    // erfc(3) = 2.209049699858544e-05, across the switch from series to continued fraction.
    assertThat(Normal.erfc(3)).isCloseTo(2.209049699858544e-05, within(1e-18));
    // Python math.erfc(2.999999) = 2.209063625205517e-05; below 3 the series loses ~1e-11 relative.
    assertThat(Normal.erfc(2.999999)).isCloseTo(2.209063625205517e-05, within(1e-15));
    assertThat(Normal.cdf(-8)).isCloseTo(6.22096057427178e-16, within(1e-27));
  }

  @Test
  void quantileInvertsTheCdf() {
    assertThat(Normal.quantile(0.975)).isCloseTo(1.959963984540054, within(1e-12));
    // Kayenta's MannWhitneySuite "Test zQuant": inverse at 0.02/2 is -2.326348 (to 1e-6).
    assertThat(Normal.quantile(0.01)).isCloseTo(-2.326348, within(1e-6));
    for (double p : new double[] {1e-10, 0.001, 0.02, 0.3, 0.5, 0.8, 0.99, 1 - 1e-9}) {
      assertThat(Normal.cdf(Normal.quantile(p))).isCloseTo(p, within(p * 1e-10));
    }
  }
}
