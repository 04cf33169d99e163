using System.Text.RegularExpressions;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Conformance;

/// <summary>
/// The extractor half of our <c>check_estimator</c> (scikit-learn's conformance suite): every feature set the catalogue
/// can make, the learned one and every fusion of them, passes the same checks. The cases come from the catalogue, so a
/// set added to <see cref="FeatureSetCatalog.RecordOnlySets"/> is checked without touching this file. In the collection
/// of the libtorch tests because the learned set runs a (tiny) network.
/// </summary>
[Collection(nameof(LibtorchCollection))]
public class FeatureExtractorConformanceTests
{
    /// <summary>Every set a definition can name: the catalogue's, the learned one, and each fusion of two or more in
    /// catalogue order (<c>basic+handcrafted</c>, …, <c>basic+handcrafted+learned</c>).</summary>
    public static TheoryData<string> Sets => new(ConformanceExtractors.SetsWithFusions());

    public static TheoryData<string, string> SetsWithoutABeat
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var set in ConformanceExtractors.SetsWithFusions())
                foreach (var record in ConformanceRecords.WithoutABeat.Keys) data.Add(set, record);
            return data;
        }
    }

    [Theory, MemberData(nameof(Sets))]
    public void Feature_names_are_unique_and_end_in_their_documented_unit(string set) =>
        ExtractorChecks.NamesAreUniqueAndEndInAUnit(ConformanceExtractors.Create(set));

    [Theory, MemberData(nameof(SetsWithoutABeat))]
    public void A_record_without_a_measurable_beat_gives_NaN_not_zero(string set, string record) =>
        ExtractorChecks.NothingIsMadeUpWithoutABeat(ConformanceExtractors.Create(set), ConformanceRecords.WithoutABeat[record]);

    [Theory, MemberData(nameof(Sets))]
    public void A_dead_lead_gives_NaN_for_that_leads_features(string set) =>
        ExtractorChecks.NothingIsMadeUpOnADeadLead(ConformanceExtractors.Create(set), ConformanceRecords.DeadV1.Value, "V1");

    [Theory, MemberData(nameof(Sets))]
    public void Extracting_in_parallel_gives_bit_identical_values_to_extracting_in_sequence(string set) =>
        ExtractorChecks.ParallelEqualsSequential(ConformanceExtractors.Create(set), ConformanceRecords.Varied.Value);

    [Theory, MemberData(nameof(Sets))]
    public void Extracting_a_record_twice_gives_bit_identical_values(string set) =>
        ExtractorChecks.Deterministic(ConformanceExtractors.Create(set), ConformanceRecords.Varied.Value);

    [Fact]
    public void Every_unit_docs_features_md_documents_has_a_name_suffix()
    {
        var documented = ExtractorChecks.DocumentedUnits.Values.Distinct().Order().ToArray();
        Assert.NotEmpty(documented);
        Assert.All(documented, unit => Assert.True(ExtractorChecks.SuffixOfUnit.ContainsKey(unit),
            $"docs/features.md documents the unit '{unit}', which has no suffix in ExtractorChecks.SuffixOfUnit"));
    }
}

/// <summary>Each check on deliberately broken extractors: a check that cannot fail checks nothing.</summary>
public class FeatureExtractorChecksCanFail
{
    [Fact]
    public void The_name_check_fails_on_a_duplicate_and_on_a_name_without_a_unit()
    {
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NamesAreUniqueAndEndInAUnit(new Broken(["hr_bpm", "hr_bpm"])));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NamesAreUniqueAndEndInAUnit(new Broken(["hr_bpm", "heart_rate"])));
        // A fraction without its suffix (the name the set had before the rule).
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NamesAreUniqueAndEndInAUnit(new Broken(["rr_mean_ms", "rr_pnn50"])));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NamesAreUniqueAndEndInAUnit(new Broken(["learned_12"])));
        ExtractorChecks.NamesAreUniqueAndEndInAUnit(new Broken(["hr_bpm", "rr_mean_ms", "I_qrs_area_mvms", "learned_0012"]));
    }

    [Fact]
    public void The_NaN_checks_fail_on_a_made_up_zero()
    {
        var zeros = new Broken(["hr_bpm", "V1_r_amp_mv"], (_, d) => d.Clear());
        foreach (var record in ConformanceRecords.WithoutABeat.Values)
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NothingIsMadeUpWithoutABeat(zeros, record));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NothingIsMadeUpOnADeadLead(zeros, ConformanceRecords.DeadV1.Value, "V1"));
        // And a made-up age.
        var age = new Broken(["age_years"], (_, d) => d[0] = 50);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.NothingIsMadeUpWithoutABeat(age, ConformanceRecords.WithoutABeat["flat line at 0 mV"]));
        var honest = new Broken(["hr_bpm", "V1_r_amp_mv"], (_, d) => d.Fill(float.NaN));
        ExtractorChecks.NothingIsMadeUpOnADeadLead(honest, ConformanceRecords.DeadV1.Value, "V1");
    }

    [Fact]
    public void The_thread_safety_check_fails_on_a_shared_scratch_buffer()
    {
        var scratch = new float[1];
        var shared = new Broken(["mean_mv"], (record, d) =>
        {
            scratch[0] = record.Signals[1][record.RecordedSamples].AsSpan().ToArray().Average();
            Thread.Sleep(1);
            d[0] = scratch[0];
        });
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.ParallelEqualsSequential(shared, ConformanceRecords.Varied.Value));
    }

    [Fact]
    public void The_determinism_check_fails_on_state_carried_between_calls_and_on_an_unwritten_slot()
    {
        var calls = 0;
        var counting = new Broken(["calls_count"], (_, d) => d[0] = Interlocked.Increment(ref calls));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.Deterministic(counting, ConformanceRecords.Varied.Value));
        var lazy = new Broken(["hr_bpm", "qrs_ms"], (_, d) => d[0] = 60);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => ExtractorChecks.Deterministic(lazy, ConformanceRecords.Varied.Value));
    }

    sealed class Broken(string[] names, ExtractInto? extract = null) : IEcgFeatureExtractor
    {
        public string Name => "broken";
        public int Version => 1;
        public IReadOnlyList<string> FeatureNames => names;
        public void Extract(EcgRecord record, Span<float> destination) => (extract ?? ((_, d) => d.Fill(float.NaN)))(record, destination);
    }

    delegate void ExtractInto(EcgRecord record, Span<float> destination);
}

/// <summary>The extractors under test, built from the catalogue's names.</summary>
static class ConformanceExtractors
{
    /// <summary>The sets a definition can name on its own: the record-only ones and the learned one.</summary>
    public static IReadOnlyList<string> Sets => [.. FeatureSetCatalog.RecordOnlySets, LearnedFeatures.SetName];

    public static IEnumerable<string> SetsWithFusions()
    {
        var sets = Sets;
        // Every fusion a definition may name: those whose parts share a feature name are refused by the loader.
        for (var mask = 1; mask < 1 << sets.Count; mask++)
            if (string.Join("+", sets.Where((_, i) => (mask & 1 << i) != 0)) is var set && FeatureSetCatalog.SharedNames(set).Count == 0)
                yield return set;
    }

    /// <summary>A tiny network with fixed weights stands in for a trained one: the checks are about the extractor's
    /// plumbing (names, threads, determinism, finite outputs), which do not depend on what the weights learned.</summary>
    static readonly Lazy<ResNet1d> TinyNetwork = new(() => new ResNet1d(NetworkTrainerTests.Tiny, seed: 4));
    const int TinyNetworkRateHz = 100;

    public static IEcgFeatureExtractor Create(string set)
    {
        var parts = FeatureSetCatalog.Parts(set).Select(part =>
        {
            if (part != LearnedFeatures.SetName) return FeatureSetCatalog.Create(part);
            TorchRuntime.EnsureLoaded(threads: 1);
            return new NetworkEmbeddingExtractor(TinyNetwork.Value, TinyNetworkRateHz);
        }).ToArray();
        return parts.Length == 1 ? parts[0] : new FusedFeatureExtractor(parts);
    }
}

/// <summary>The records the checks extract: synthetic exams of every class and the edge cases.</summary>
static class ConformanceRecords
{
    static readonly SyntheticEcgGenerator Generator = new(new SyntheticEcgOptions { Exams = 64, Seed = 5 });

    static EcgRecord Constant(double fs, int samples, float millivolts) => new()
    {
        ExamId = "flat", PatientId = "flat", Age = 63, Sex = Sex.Female, SamplingRateHz = fs, Leads = StandardLeads.Twelve,
        Signals = [.. StandardLeads.Twelve.Select(_ => Enumerable.Repeat(millivolts, samples).ToArray())],
        RecordedSamples = Range.All, Labels = new HashSet<string>(),
    };

    /// <summary>0.8 s around one QRS: a real complex, but no R-R interval and too short for a median beat
    /// (the detector needs 1 s; the delineator 450 ms before and 650 ms after R).</summary>
    static EcgRecord TooShort()
    {
        var (record, truth) = Generator.Generate(0);
        var fs = record.SamplingRateHz;
        var from = truth.RPeakSamples[1] - (int)(0.3 * fs);
        var length = (int)(0.8 * fs);
        return new EcgRecord
        {
            ExamId = "short", PatientId = record.PatientId, Age = record.Age, Sex = record.Sex, SamplingRateHz = fs, Leads = record.Leads,
            Signals = [.. record.Signals.Select(s => s.AsSpan(from, length).ToArray())], RecordedSamples = Range.All, Labels = record.Labels,
        };
    }

    public static readonly IReadOnlyDictionary<string, EcgRecord> WithoutABeat = new Dictionary<string, EcgRecord>
    {
        ["flat line at 0 mV"] = Constant(400, 4000, 0),
        ["flat line at 1 mV"] = Constant(500, 5000, 1),
        ["0.8 s, one QRS"] = TooShort(),
    };

    /// <summary>A normal exam whose V1 electrode is off: every sample of V1 is 0.</summary>
    public static readonly Lazy<EcgRecord> DeadV1 = new(() =>
    {
        var record = Generator.GenerateWithClasses(1).Record;
        return new EcgRecord
        {
            ExamId = "dead-v1", PatientId = record.PatientId, Age = record.Age, Sex = record.Sex, SamplingRateHz = record.SamplingRateHz,
            Leads = record.Leads, RecordedSamples = record.RecordedSamples, Labels = record.Labels,
            Signals = [.. record.Signals.Select((s, l) => record.Leads[l] == "V1" ? new float[s.Length] : s)],
        };
    });

    /// <summary>Exams of every class and none, and the edge cases, so each of an extractor's paths runs.</summary>
    public static readonly Lazy<IReadOnlyList<EcgRecord>> Varied = new(() =>
        [
            .. Enumerable.Range(0, 8).Select(i => Generator.Read(i)),
            .. SyntheticClasses.All.Select((c, i) => Generator.GenerateWithClasses(10 + i, c).Record),
            .. WithoutABeat.Values,
            DeadV1.Value,
        ]);
}

/// <summary>The checks, as plain methods over an extractor, so the broken extractors above can be put through them.</summary>
static class ExtractorChecks
{
    /// <summary>The units docs/features.md documents (its tables' unit column), by feature name; <c>{lead}</c> in a
    /// documented name stands for any lead.</summary>
    public static readonly IReadOnlyDictionary<string, string> DocumentedUnits = ReadDocumentedUnits();

    /// <summary>
    /// Each documented unit's name suffix. Most come from the names docs/features.md already gives in that unit
    /// (<c>hr_bpm</c>, <c>qrs_ms</c>, <c>cornell_mv</c>, <c>I_qrs_area_mvms</c>, <c>qrs_axis_deg</c>, <c>age_years</c>,
    /// <c>II_band_5_15hz_share</c>, <c>r_transition_lead</c>). No documented name ends in a suffix for 0/1, count or
    /// correlation, so those three are what the rule proposes; one suffix per unit, so a fraction is <c>_share</c>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SuffixOfUnit = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ms"] = "_ms",
        ["beats/min"] = "_bpm",
        ["mV"] = "_mv",
        ["mV·ms"] = "_mvms",
        ["degrees"] = "_deg",
        ["years"] = "_years",
        ["fraction"] = "_share",
        ["ratio"] = "_ratio",
        ["lead number"] = "_lead",
        ["0/1"] = "_flag",
        ["count"] = "_count",
        ["correlation"] = "_corr",
    };

    /// <summary>
    /// A learned feature is one coordinate of the network's penultimate layer: an activation with no physical unit, and
    /// nothing a suffix could say that the <c>learned_</c> prefix does not (a suffix such as <c>_au</c> would change
    /// every cached table's and bundle's column names for no information). So its name is held to its own exact form,
    /// <c>learned_</c> and a four-digit index, rather than to a unit suffix.
    /// </summary>
    static readonly Regex LearnedName = new(@"^learned_\d{4}$", RegexOptions.CultureInvariant);

    static readonly float Sentinel = BitConverter.Int32BitsToSingle(0x7FC0BEEF);

    public static void NamesAreUniqueAndEndInAUnit(IEcgFeatureExtractor extractor)
    {
        var names = extractor.FeatureNames;
        var duplicates = names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} (×{g.Count()})").ToArray();
        var suffixes = SuffixOfUnit.Values.ToArray();
        var violations = new List<string>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (name.StartsWith("learned_", StringComparison.Ordinal))
            {
                if (!LearnedName.IsMatch(name)) violations.Add($"{name} (a learned feature is learned_ and a four-digit index)");
                continue;
            }
            if (DocumentedUnit(name) is { } unit)
            {
                if (SuffixOfUnit.TryGetValue(unit, out var suffix) && !name.EndsWith(suffix, StringComparison.Ordinal))
                    violations.Add($"{name} (documented in {unit}: ends in {suffix})");
            }
            else if (!suffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal)))
                violations.Add($"{name} (no unit suffix)");
        }
        Assert.True(duplicates.Length == 0 && violations.Count == 0,
            $"{extractor.Name}: {names.Count} features; " +
            (duplicates.Length > 0 ? $"{duplicates.Length} names occur more than once: {string.Join(", ", duplicates)}; " : "") +
            (violations.Count > 0 ? $"{violations.Count} names do not end in a unit ({string.Join(", ", suffixes)}): {string.Join(", ", violations)}" : ""));
    }

    static string? DocumentedUnit(string name) =>
        DocumentedUnits.FirstOrDefault(d => Regex.IsMatch(name, "^" + Regex.Escape(d.Key).Replace(@"\{lead}", "[A-Za-z0-9]+") + "$")).Value;

    static Dictionary<string, string> ReadDocumentedUnits()
    {
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.Root, "docs", "features.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            foreach (Match name in Regex.Matches(cells[1], "`([^`]+)`")) units[name.Groups[1].Value] = cells[2];
        }
        return units;
    }

    /// <summary>What a feature may hold when no beat can be measured (see <see cref="Kind"/>).</summary>
    enum WithoutBeats { NeedsABeat, Metadata, Indicator, WholeSignal, NetworkOutput }

    /// <summary>
    /// The rule: on a record where no beat can be measured, every feature is NaN except what genuinely needs no beat.
    /// <list type="bullet">
    /// <item>metadata read from the header (<c>age_years</c>, <c>sex_male_flag</c>): exactly the record's, NaN when it has none;</item>
    /// <item>the indicator of why the rest is missing (<c>delineation_missing_flag</c>): 1;</item>
    /// <item>statistics of the whole recorded signal (<c>{lead}_signal_sd_mv</c>): finite, and 0 on a flat line, where 0
    /// is the measurement (a flat signal does not vary);</item>
    /// <item>learned features: finite. The network's response is defined for any input, flat or short, and a NaN there
    /// would poison every learner that reads it.</item>
    /// </list>
    /// Everything else (rates, RR statistics, intervals and QTc, axes, wave amplitudes and areas, ST levels, counts,
    /// correlations, band shares, voltage criteria, median-beat samples) is a measurement of a beat, and a 0 there would
    /// read as a real value: it must be NaN. A feature added to an extractor falls under the last rule unless it is
    /// listed here with its reason.
    /// </summary>
    static WithoutBeats Kind(string name) => name switch
    {
        "age_years" or "sex_male_flag" => WithoutBeats.Metadata,
        "delineation_missing_flag" => WithoutBeats.Indicator,
        _ when name.EndsWith("_signal_sd_mv", StringComparison.Ordinal) => WithoutBeats.WholeSignal,
        _ when LearnedName.IsMatch(name) => WithoutBeats.NetworkOutput,
        _ => WithoutBeats.NeedsABeat,
    };

    public static void NothingIsMadeUpWithoutABeat(IEcgFeatureExtractor extractor, EcgRecord record)
    {
        var values = Extract(extractor, record, 0);
        var flat = record.Signals.All(s => IsConstant(s.AsSpan(record.RecordedSamples)));
        var wrong = new List<string>();
        for (var k = 0; k < values.Length; k++)
        {
            var (name, v) = (extractor.FeatureNames[k], values[k]);
            var ok = Kind(name) switch
            {
                WithoutBeats.Metadata => Same(v, name == "age_years" ? (float?)record.Age ?? float.NaN
                    : record.Sex switch { Sex.Male => 1f, Sex.Female => 0f, _ => float.NaN }),
                WithoutBeats.Indicator => v == 1,
                WithoutBeats.WholeSignal => float.IsFinite(v) && (!flat || v == 0),
                WithoutBeats.NetworkOutput => float.IsFinite(v),
                _ => float.IsNaN(v),
            };
            if (!ok) wrong.Add($"{name}={v:R}");
        }
        Assert.True(wrong.Count == 0, $"{extractor.Name} on '{record.ExamId}' ({record.SampleCount / record.SamplingRateHz:0.##} s, no measurable beat): " +
            $"{wrong.Count} features are not NaN where they cannot be measured: {string.Join(", ", wrong)}");
    }

    /// <summary>
    /// The rule for one dead lead in a live record (every sample of <paramref name="lead"/> is 0, as with an electrode
    /// off): the other leads still give beats, but the dead lead shows no wave to measure, so every feature of that
    /// lead (named <c>{lead}_…</c>) is NaN, as HandcraftedFeatureExtractor's summary promises ("What cannot be measured
    /// (no P wave in AF, a flat lead) is NaN with an indicator, never zero"). Only a statistic of the whole signal
    /// (<c>_signal_sd_mv</c>) measures something on it, and is 0. Learned features are finite.
    /// </summary>
    public static void NothingIsMadeUpOnADeadLead(IEcgFeatureExtractor extractor, EcgRecord record, string lead)
    {
        var values = Extract(extractor, record, 0);
        var wrong = new List<string>();
        for (var k = 0; k < values.Length; k++)
        {
            var (name, v) = (extractor.FeatureNames[k], values[k]);
            if (Kind(name) == WithoutBeats.NetworkOutput && !float.IsFinite(v)) wrong.Add($"{name}={v:R}");
            if (!name.StartsWith(lead + "_", StringComparison.Ordinal)) continue;
            var ok = Kind(name) == WithoutBeats.WholeSignal ? v == 0 : float.IsNaN(v);
            if (!ok) wrong.Add($"{name}={v:R}");
        }
        Assert.True(wrong.Count == 0, $"{extractor.Name} on an exam whose {lead} is flat: {wrong.Count} features of the dead lead are not NaN: {string.Join(", ", wrong)}");
    }

    /// <summary>Each record three times, in shuffled order, on several threads through one instance, into buffers full
    /// of garbage, against one pass in sequence into clean buffers: every bit must agree.</summary>
    public static void ParallelEqualsSequential(IEcgFeatureExtractor extractor, IReadOnlyList<EcgRecord> records)
    {
        var sequential = records.Select(r => Extract(extractor, r, 0)).ToArray();
        var order = Enumerable.Range(0, 3 * records.Count).Select(k => k % records.Count).ToArray();
        new Random(7).Shuffle(order);
        var parallel = new float[order.Length][];
        // Four threads of our own, started together and taking records from one queue: a thread pool busy with other
        // tests could otherwise run the whole pass on one thread, and the check would be void.
        var next = -1;
        using var start = new Barrier(4);
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (int k; (k = Interlocked.Increment(ref next)) < order.Length;)
                parallel[k] = Extract(extractor, records[order[k]], Sentinel);
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        for (var k = 0; k < order.Length; k++)
            AssertBitIdentical(extractor, sequential[order[k]], parallel[k], $"'{records[order[k]].ExamId}' extracted in parallel vs in sequence");
    }

    /// <summary>Every record twice, the second pass in reverse order and into a buffer full of garbage: state carried
    /// from one call to the next, or a slot left unwritten, shows as a difference.</summary>
    public static void Deterministic(IEcgFeatureExtractor extractor, IReadOnlyList<EcgRecord> records)
    {
        var first = records.Select(r => Extract(extractor, r, 0)).ToArray();
        for (var i = records.Count - 1; i >= 0; i--)
            AssertBitIdentical(extractor, first[i], Extract(extractor, records[i], Sentinel), $"'{records[i].ExamId}' extracted twice");
    }

    static float[] Extract(IEcgFeatureExtractor extractor, EcgRecord record, float fill)
    {
        var values = new float[extractor.FeatureNames.Count];
        values.AsSpan().Fill(fill);
        extractor.Extract(record, values);
        return values;
    }

    static bool IsConstant(ReadOnlySpan<float> signal) => signal.IsEmpty || signal.IndexOfAnyExcept(signal[0]) < 0;

    static bool Same(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || float.IsNaN(a) && float.IsNaN(b);

    static void AssertBitIdentical(IEcgFeatureExtractor extractor, float[] expected, float[] actual, string what)
    {
        var differing = Enumerable.Range(0, expected.Length)
            .Where(k => BitConverter.SingleToInt32Bits(expected[k]) != BitConverter.SingleToInt32Bits(actual[k]))
            .Select(k => $"{extractor.FeatureNames[k]}: {expected[k]:R} vs {actual[k]:R}").ToArray();
        Assert.True(differing.Length == 0, $"{extractor.Name}, {what}: {differing.Length} values differ: {string.Join(", ", differing.Take(10))}");
    }
}
