package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SequentialCountTestTest {

  @Test
  void waitsForTheMinimumOnBothSides() {
    SequentialCountTest test = new SequentialCountTest(0.05, 100);
    CountDecision decision = test.evaluate(0, 99, 50, 1000);
    assertThat(decision.outcome()).isEqualTo(CountOutcome.NOT_ENOUGH_DATA);
    assertThat(decision.alwaysValidP()).isEqualTo(1);
    assertThat(decision.reason()).isEqualTo(
        "waiting for 100 requests on each side (baseline 99, canary 1000)");
  }

  @Test
  void evidenceByHandForOneRatio() {
    // Only r = 2, equal traffic (s = 1/2): an error is the canary's with 2/3 under H1, 1/2
    // under H0; c canary and 0 baseline errors give (4/3)^c. (4/3)^10 = 17.76 < 20 = 1/alpha,
    // (4/3)^11 = 23.68 >= 20.
    SequentialCountTest test = new SequentialCountTest(0.05, 1, List.of(2.0));
    CountDecision ten = test.evaluate(0, 1000, 10, 1000);
    assertThat(ten.evidence()).isCloseTo(Math.pow(4.0 / 3, 10), within(1e-9));
    assertThat(ten.outcome()).isEqualTo(CountOutcome.NO_EVIDENCE_YET);
    CountDecision eleven = test.evaluate(0, 1000, 11, 1000);
    assertThat(eleven.outcome()).isEqualTo(CountOutcome.CANARY_WORSE);
    assertThat(eleven.alwaysValidP()).isCloseTo(Math.pow(0.75, 11), within(1e-12));
    // One baseline error multiplies by (1/3)/(1/2) = 2/3.
    assertThat(test.evaluate(1, 1000, 11, 1000).evidence())
        .isCloseTo(Math.pow(4.0 / 3, 11) * 2 / 3, within(1e-9));
    // Unequal traffic: canary 1/4 of requests. r = 2: theta = 0.5/(0.5+0.75) = 0.4;
    // 3 canary errors, 2 baseline: (0.4/0.25)^3 * (0.6/0.75)^2 = 4.096 * 0.64 = 2.62144.
    assertThat(test.evaluate(2, 3000, 3, 1000).evidence()).isCloseTo(2.62144, within(1e-9));
  }

  @Test
  void theMixtureAveragesTheRatios() {
    SequentialCountTest test = new SequentialCountTest(0.05, 1, List.of(2.0, 3.0));
    // s = 1/2: r = 3 gives theta 3/4; 2 canary errors: ((4/3)^2 + (3/2)^2) / 2.
    assertThat(test.evaluate(0, 500, 2, 500).evidence())
        .isCloseTo((16.0 / 9 + 9.0 / 4) / 2, within(1e-12));
  }

  @Test
  void aBetterCanaryIsNeverWorseAndHugeCountsDoNotOverflow() {
    SequentialCountTest test = new SequentialCountTest();
    assertThat(test.evaluate(500, 10_000, 10, 10_000).outcome())
        .isEqualTo(CountOutcome.NO_EVIDENCE_YET);
    CountDecision big = test.evaluate(10_000_000, 1_000_000_000, 20_000_000, 1_000_000_000);
    assertThat(big.outcome()).isEqualTo(CountOutcome.CANARY_WORSE);
    assertThat(big.alwaysValidP()).isZero();
    assertThat(test.evaluate(0, 1000, 0, 1000).evidence()).isEqualTo(1);
  }

  @Test
  void badCountsAreRefused() {
    SequentialCountTest test = new SequentialCountTest();
    assertThatThrownBy(() -> test.evaluate(5, 4, 0, 10))
        .hasMessage("baseline: errors (5) must be between 0 and the requests (4)");
    assertThatThrownBy(() -> new SequentialCountTest(0.05, 10, List.of(1.0)))
        .hasMessageStartingWith("ratios must be finite numbers above 1");
  }

  @Test
  void checkingEveryIntervalKeepsTheFalseAlarmRateBelowAlpha() {
    // 2,000 A/A runs, 1 % errors, ~100 requests a side per interval, checked 180 times.
    // Ville's bound: at most alpha = 0.05. Allowed: 0.05 + 5 sigma of a binomial of 2,000 runs
    // at 0.05 (sigma = 0.0049), so the test fails only if the bound is really broken.
    SplittableRandom random = new SplittableRandom(12);
    SequentialCountTest test = new SequentialCountTest(0.05, 100);
    int alarms = 0;
    int runs = 2000;
    for (int run = 0; run < runs; run++) {
      if (SequentialSimulation.alarmAt(test, random, 100, 0.01, 0.01, 180) >= 0) {
        alarms++;
      }
    }
    double rate = (double) alarms / runs;
    assertThat(rate).isLessThanOrEqualTo(0.05 + 5 * Math.sqrt(0.05 * 0.95 / runs));
  }
}
