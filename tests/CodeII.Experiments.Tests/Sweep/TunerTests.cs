using CodeII.Experiments.Sweep;
using CodeII.Experiments.Sweep.Tuning;

namespace CodeII.Experiments.Tests.Sweep;

public class SearchSpaceTests
{
    [Fact]
    public void Log_linear_integer_and_choice_parameters_map_to_the_unit_interval_and_back()
    {
        var rate = new NumericParameter("learning_rate", 1e-4, 1e-1, Log: true);
        Assert.Equal(1.0 / 3, rate.ToUnit(1e-3), 12);
        Assert.Equal(Math.Pow(10, -2.5), rate.FromUnit(0.5), 12);
        var leaves = new NumericParameter("leaves", 4, 1024, Log: true, Integer: true, LowCost: 4);
        Assert.Equal(64, leaves.FromUnit(0.5)); // 4 · 256^0.5
        Assert.Equal(0, leaves.LowCostUnit);
        var fraction = new NumericParameter("fraction", 0.5, 1);
        Assert.Equal(0.75, fraction.FromUnit(0.5), 12);
        Assert.Equal(1, fraction.FromUnit(7)); // clamped
        var booster = new ChoiceParameter("booster", ["gbdt", "dart", "goss"]);
        Assert.Equal([0.0, 1, 2], new[] { 0.1, 0.5, 0.9 }.Select(booster.FromUnit));
        Assert.Equal(0.5, booster.ToUnit(1), 12);

        var space = new SearchSpace([rate, leaves, booster]);
        var c = space.FromUnit([1.0 / 3, 0.5, 0.9]);
        Assert.Equal((1e-3, 64.0, 2.0), (Math.Round(c["learning_rate"], 12), c["leaves"], c["booster"]));
        Assert.Equal(10, space.WithRange("learning_rate", 1e-3, 1e-2).FromUnit([0, 0, 0])["learning_rate"] * 1e4, 9);
    }

    [Fact]
    public void A_conditional_option_appears_only_when_its_choice_is_taken()
    {
        var space = BinaryLearnerCatalog.Create("lightgbm").Space;
        var names = space.Parameters.Select(p => p.Name).ToList();
        var unit = space.LowCostUnit;
        var gbdt = space.FromUnit(unit);
        Assert.Equal(0, gbdt["booster"]);
        Assert.False(gbdt.ContainsKey("top_rate") || gbdt.ContainsKey("other_rate"));
        unit[names.IndexOf("booster")] = 0.9;
        var goss = space.FromUnit(unit);
        Assert.Equal((1.0, 0.2, 0.1), (goss["booster"], Math.Round(goss["top_rate"], 12), Math.Round(goss["other_rate"], 12)));
        // Back to the unit cube: an absent option sits at its low-cost value, so replaying a log finds the same point.
        Assert.Equal(space.LowCostUnit, space.ToUnit(gbdt));
    }

    [Fact]
    public void The_grid_starts_at_the_low_cost_corner_and_covers_every_combination()
    {
        var space = new SearchSpace([new NumericParameter("trees", 4, 400, Log: true, Integer: true), new ChoiceParameter("kind", ["a", "b"])]);
        var grid = new GridTuner(space, seed: 1);
        var proposals = Enumerable.Range(0, 6).Select(_ => grid.Propose()).Select(p => (p["trees"], p["kind"])).ToArray();
        Assert.Equal((4.0, 0.0), proposals[0]);
        Assert.Equal(6, proposals.Distinct().Count());
        Assert.Equal([4.0, 40, 400], proposals.Select(p => p.Item1).Distinct().Order());
    }
}

/// <summary>Tuners against objectives with a known minimum.</summary>
public class TunerTests
{
    /// <summary>A shifted quadratic in log space: the optimum is at learning rate 0.01, 30 trees and fraction 0.7.</summary>
    static readonly SearchSpace Space = new([
        new NumericParameter("learning_rate", 1e-4, 1, Log: true, LowCost: 1e-4),
        new NumericParameter("trees", 1, 1000, Log: true, Integer: true, LowCost: 1),
        new NumericParameter("fraction", 0, 1, LowCost: 0),
    ]);

    static double Loss(TrialParameters p) =>
        Math.Pow((Math.Log10(p["learning_rate"]) + 2) / 4, 2) + Math.Pow((Math.Log10(p["trees"]) - Math.Log10(30)) / 3, 2) + Math.Pow(p["fraction"] - 0.7, 2);

    static double BestAfter(ITuner tuner, int trials, double noise = 0, int seed = 0)
    {
        var random = new Random(seed);
        var best = double.PositiveInfinity;
        for (var t = 0; t < trials; t++)
        {
            var p = tuner.Propose();
            var loss = Loss(p);
            best = Math.Min(best, loss);
            tuner.Update(p, loss + noise * (random.NextDouble() - 0.5), cost: p["trees"]);
        }
        return best;
    }

    [Fact]
    public void CFO_finds_the_minimum_of_a_shifted_quadratic_in_log_space()
    {
        var best = BestAfter(new CfoTuner(Space, seed: 3), trials: 120);
        // 1e-3 in loss is within about 0.13 decade of the rate, 0.1 decade of the trees and 0.03 of the fraction.
        Assert.True(best < 1e-3, $"best loss {best}");
    }

    [Theory]
    [InlineData("cfo")]
    [InlineData("blend")]
    [InlineData("tpe")]
    public void Cost_frugal_and_model_based_tuners_beat_random_search_at_equal_budget_averaged_over_seeds(string name)
    {
        ITuner Create(int s) => TunerCatalog.Create(name, Space, s);
        foreach (var noise in new[] { 0.0, 0.01 })
        {
            var tuned = Enumerable.Range(0, 20).Average(s => BestAfter(Create(s), 40, noise, s));
            var random = Enumerable.Range(0, 20).Average(s => BestAfter(new RandomTuner(Space, s), 40, noise, s));
            Assert.True(tuned < random, $"noise {noise}: {name} mean best {tuned:G3}, random {random:G3}");
        }
    }

    [Theory]
    [InlineData("cfo")]
    [InlineData("blend")]
    [InlineData("tpe")]
    [InlineData("random")]
    public void The_same_seed_gives_the_same_proposals_and_a_replayed_log_continues_identically(string name)
    {
        ITuner Create() => TunerCatalog.Create(name, Space, 9);
        var uninterrupted = Create();
        var log = new List<(TrialParameters P, double Loss)>();
        for (var t = 0; t < 30; t++)
        {
            var p = uninterrupted.Propose();
            log.Add((p, Loss(p)));
            uninterrupted.Update(p, Loss(p), 1);
        }
        // A new tuner fed the first 20 logged trials proposes what the uninterrupted one did next.
        var resumed = Create();
        foreach (var (p, loss) in log.Take(20))
        {
            Assert.Equal(p, resumed.Propose());
            resumed.Update(p, loss, 1);
        }
        for (var t = 20; t < 30; t++)
        {
            var p = resumed.Propose();
            Assert.Equal(log[t].P, p);
            resumed.Update(p, log[t].Loss, 1);
        }
    }

    [Fact]
    public void On_a_plateau_around_the_cheap_corner_CFO_stays_put_and_the_blend_finds_the_basin()
    {
        // Flat (0.5) everywhere but a basin around 0.8 in every coordinate: small steps from the corner see no change.
        var space = new SearchSpace([.. Enumerable.Range(0, 4).Select(i => new NumericParameter($"x{i}", 0, 1, LowCost: 0))]);
        double Plateau(TrialParameters p) => Math.Min(0.5, p.Values.Sum(v => (v - 0.8) * (v - 0.8)));
        double Best(ITuner tuner)
        {
            var best = double.PositiveInfinity;
            for (var t = 0; t < 60; t++)
            {
                var p = tuner.Propose();
                best = Math.Min(best, Plateau(p));
                tuner.Update(p, Plateau(p), 1);
            }
            return best;
        }
        var cfo = Enumerable.Range(0, 10).Average(s => Best(new CfoTuner(space, s)));
        var blend = Enumerable.Range(0, 10).Average(s => Best(new BlendTuner(space, s)));
        Assert.Equal(0.5, cfo, 12);
        Assert.True(blend < 0.05, $"blend mean best {blend:G3}");
    }

    [Fact]
    public void A_global_result_better_than_all_before_starts_a_second_local_search_which_then_leads_while_the_first_is_stuck()
    {
        var space = new SearchSpace([.. Enumerable.Range(0, 4).Select(i => new NumericParameter($"x{i}", 0, 1, LowCost: 0))]);
        double Plateau(TrialParameters p) => Math.Min(0.5, p.Values.Sum(v => (v - 0.8) * (v - 0.8)));
        var tuner = new BlendTuner(space, seed: 3, globalEvery: 3);
        var best = double.PositiveInfinity;
        TrialParameters? start = null;
        for (var proposal = 1; proposal <= 90; proposal++)
        {
            var p = tuner.Propose();
            var global = proposal % 3 == 0;
            if (start is not null && !global)
            {
                // The next local proposal steps from the new search's start (CFO's first step is 0.1·√d = 0.2 long),
                // not from the stuck search at the cheap corner.
                var distance = Math.Sqrt(p.Keys.Sum(k => (p[k] - start[k]) * (p[k] - start[k])));
                Assert.True(distance <= 0.2 + 1e-9, $"proposal {proposal} is {distance:F3} from the new search's start");
                Assert.Equal(2, tuner.LocalSearches);
                return;
            }
            var loss = Plateau(p);
            tuner.Update(p, loss, 1);
            if (global && loss < best) start = p;
            best = Math.Min(best, loss);
        }
        Assert.Fail("no global proposal left the plateau in 90 proposals");
    }

    [Fact]
    public void The_global_search_waits_while_local_results_keep_improving_and_takes_every_third_turn_once_they_stop()
    {
        var space = new SearchSpace([.. Enumerable.Range(0, 3).Select(i => new NumericParameter($"x{i}", 0, 1, LowCost: 0))]);
        var tuner = new BlendTuner(space, seed: 2, globalEvery: 3);
        // Every result better than the last: the local search is never stuck, so the global one never proposes.
        for (var t = 0; t < 30; t++)
        {
            var p = tuner.Propose();
            Assert.False(tuner.LastProposalWasGlobal, $"proposal {t + 1} was global while every result improved");
            tuner.Update(p, 1.0 / (t + 1), 1);
        }
        // Then nothing improves: after two local results without improvement, every third proposal is global.
        var global = new List<int>();
        for (var t = 30; t < 60; t++)
        {
            var p = tuner.Propose();
            if (tuner.LastProposalWasGlobal) global.Add(t + 1);
            tuner.Update(p, 1, 1);
        }
        Assert.Equal([.. Enumerable.Range(1, 20).Select(k => 3 * k).Where(n => n > 32 && n <= 60)], global);
    }

    [Fact]
    public void A_global_proposal_is_bounded_by_the_cost_of_its_whole_configuration_not_option_by_option()
    {
        // Cost ∝ trees × leaves; the regulariser costs nothing. Best local point: 4 trees of 4 leaves (cost 16).
        // With a margin of 0.15 unit steps, the bound is 16 × (256 × 64)^0.15 = 16 × 4.2871 = 68.59 (by hand:
        // ln 16,384 = 9.7041, × 0.15 = 1.4556, e^1.4556 = 4.2871).
        var space = new SearchSpace([
            new NumericParameter("iterations", 4, 1024, Log: true, LowCost: 4) { ScalesCost = true },
            new NumericParameter("leaves", 4, 256, Log: true, LowCost: 4) { ScalesCost = true },
            new NumericParameter("l2", 1e-3, 10, Log: true, LowCost: 1e-3),
        ]);
        var tuner = new BlendTuner(space, seed: 1);
        double[] Bounded(TrialParameters proposal, TrialParameters best)
        {
            var unit = space.ToUnit(proposal);
            tuner.BoundCost(unit, space.ToUnit(best), 0.15 * Math.Log(256 * 64));
            var p = space.FromUnit(unit);
            return [p["iterations"], p["leaves"], p["l2"]];
        }
        var cheapest = new TrialParameters { ["iterations"] = 4, ["leaves"] = 4, ["l2"] = 1e-3 };

        // 4 trees of 13 leaves (cost 52) is inside the bound, though leaves rose by 0.28 unit steps, nearly twice the
        // margin a per-option bound allowed; the regulariser is not bounded at all.
        Assert.Equal([4, 13, 5], Bounded(new() { ["iterations"] = 4, ["leaves"] = 13, ["l2"] = 5 }, cheapest), new ToleranceComparer(1e-9));
        // 4 trees of 256 leaves (cost 1,024) is pulled back to the bound: 68.59 / 4 = 17.15 leaves.
        Assert.Equal([4, 17.1484, 1e-3], Bounded(new() { ["iterations"] = 4, ["leaves"] = 256, ["l2"] = 1e-3 }, cheapest), new ToleranceComparer(1e-4));
        // Both raised by the same factor (64 × 64 = 4,096 each way): each keeps its share, √4.2871 = 2.0705 × 4 = 8.282.
        Assert.Equal([8.2821, 8.2821, 1e-3], Bounded(new() { ["iterations"] = 256, ["leaves"] = 256, ["l2"] = 1e-3 }, cheapest), new ToleranceComparer(1e-4));
        // Fewer trees pay for more leaves: from 1,024 trees of 4 leaves (cost 4,096), 4 trees of 256 (cost 1,024) is cheaper and kept.
        Assert.Equal([4, 256, 1e-3], Bounded(new() { ["iterations"] = 4, ["leaves"] = 256, ["l2"] = 1e-3 },
            new() { ["iterations"] = 1024, ["leaves"] = 4, ["l2"] = 1e-3 }), new ToleranceComparer(1e-9));
    }

    [Fact]
    public void A_global_proposal_costs_at_most_a_quarter_of_the_work_spent_so_far()
    {
        var space = new SearchSpace([
            new NumericParameter("iterations", 4, 1024, Log: true, LowCost: 4) { ScalesCost = true },
            new NumericParameter("leaves", 4, 256, Log: true, LowCost: 4) { ScalesCost = true },
        ]);
        var tuner = new BlendTuner(space, seed: 1);
        // Three results whose work is 0.1 × trees × leaves: 1.6 + 6.4 + 6.4 = 14.4 spent; the best is 8 trees of 8 leaves.
        foreach (var (trees, leaves, loss) in new[] { (4.0, 4.0, 0.3), (16.0, 4.0, 0.2), (8.0, 8.0, 0.1) })
            tuner.Update(new() { ["iterations"] = trees, ["leaves"] = leaves }, loss, 0.1 * trees * leaves);
        var best = space.ToUnit(new() { ["iterations"] = 8, ["leaves"] = 8 });
        // The margin of a first global proposal would allow 16,384^0.15 = 4.29 times the best point's cost (25.7 trees ×
        // leaves); a quarter of the work spent allows 3.6, or 36 trees × leaves at 0.1 each, which is below the best
        // point's 64: the bound is ln(36 / 64) = −0.575.
        Assert.Equal(Math.Log(36.0 / 64), tuner.AllowedLogCostExcess(best, 1), 9);
        // 4 trees of 64 leaves (cost 25.6) keeps its 4 trees and gets 36 / 4 = 9 leaves; 64 trees of 64 leaves gets
        // the best point's own 8 and 8, as no raise fits.
        double[] Bounded(double trees, double leaves)
        {
            var unit = space.ToUnit(new() { ["iterations"] = trees, ["leaves"] = leaves });
            tuner.BoundCost(unit, best, tuner.AllowedLogCostExcess(best, 1));
            var p = space.FromUnit(unit);
            return [p["iterations"], p["leaves"]];
        }
        Assert.Equal([4, 9], Bounded(4, 64), new ToleranceComparer(1e-9));
        Assert.Equal([8, 8], Bounded(64, 64), new ToleranceComparer(1e-9));
        // With nothing spent yet only the margin bounds: at the second global proposal, 0.30 unit steps of each option.
        var fresh = new BlendTuner(space, seed: 1);
        Assert.Equal(0.15 * 2 * Math.Log(256 * 64), fresh.AllowedLogCostExcess(space.ToUnit(new() { ["iterations"] = 4, ["leaves"] = 4 }), 2), 9);
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(y));
        public int GetHashCode(double value) => 0;
    }

    [Fact]
    public void When_its_only_local_search_converges_the_blend_restarts_it_at_a_random_point_not_at_the_cheap_corner()
    {
        // Flat everywhere: the local search at x = 0 never moves and its steps (at most 0.1) shrink until it
        // converges. Until then every local proposal lies within 0.1 of the corner; after it, one lies elsewhere.
        var space = new SearchSpace([new NumericParameter("x", 0, 1, LowCost: 0)]);
        var tuner = new BlendTuner(space, seed: 4);
        var farFromCorner = false;
        for (var t = 0; t < 300 && !farFromCorner; t++)
        {
            var p = tuner.Propose();
            farFromCorner = !tuner.LastProposalWasGlobal && p["x"] > 0.2;
            tuner.Update(p, 1, 1);
            Assert.Equal(1, tuner.LocalSearches);
        }
        Assert.True(farFromCorner, "no local proposal left the corner after convergence");
    }

    [Fact]
    public void A_CFO_search_told_not_to_restart_reports_convergence_instead()
    {
        var tuner = new CfoTuner(new SearchSpace([new NumericParameter("x", 0, 1, LowCost: 0)]), seed: 1, restartOnConvergence: false);
        tuner.Update(tuner.Propose(), 0, 1);
        for (var t = 0; t < 200 && !tuner.Converged; t++) tuner.Update(tuner.Propose(), 1, 1);
        Assert.True(tuner.Converged);
        Assert.Equal(0, tuner.Restarts);
        Assert.Equal(0, tuner.IncumbentUnit[0]); // it stays where it converged
    }

    [Fact]
    public void CFO_starts_at_the_low_cost_corner_and_restarts_once_converged()
    {
        var tuner = new CfoTuner(new SearchSpace([new NumericParameter("x", 0, 1, LowCost: 0)]), seed: 1);
        var first = tuner.Propose();
        Assert.Equal(0, first["x"]);
        tuner.Update(first, 0, 1);
        // A flat objective never improves: the step halves until it falls below its floor, then CFO restarts.
        for (var t = 0; t < 200 && tuner.Restarts == 0; t++)
        {
            var p = tuner.Propose();
            tuner.Update(p, 1, 1);
        }
        Assert.Equal(1, tuner.Restarts);
    }
}
