using System.Diagnostics;

namespace CodeII.Experiments.Tests;

/// <summary>The readings behind <c>codeii bench pipeline</c>'s memory and CPU figures, checked against .NET's own
/// reading of the same counters and against a child whose memory is known.</summary>
public class ProcessUsageTests
{
    [Fact]
    public void A_process_reading_agrees_with_dotnets_own_figures_for_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime.TotalSeconds;
        var sample = ProcessUsage.Read(Environment.ProcessId);
        self.Refresh();
        var cpuAfter = self.TotalProcessorTime.TotalSeconds;

        Assert.NotNull(sample);
        // The resident set moves between two readings; it is the same counter, so within a fifth.
        Assert.InRange(sample.Value.ResidentBytes, self.WorkingSet64 * 0.8, self.WorkingSet64 * 1.2);
        // Clock ticks are 10 ms: the reading falls between the two, to within a tick each side.
        Assert.InRange(sample.Value.CpuSeconds, cpuBefore - 0.02, cpuAfter + 0.02);
        Assert.True(sample.Value.StorageReadBytes >= 0);
    }

    [Fact]
    public void The_peak_of_waited_children_covers_a_child_that_touched_300_MB()
    {
        if (!OperatingSystem.IsLinux()) return;
        var start = new ProcessStartInfo("python3") { ArgumentList = { "-c", "b = bytearray(b'x' * 300_000_000)" }, RedirectStandardError = true };
        using var child = Process.Start(start)!;
        child.WaitForExit();
        Assert.Equal(0, child.ExitCode);

        var children = ProcessUsage.WaitedChildren();

        Assert.NotNull(children);
        // Other tests' children may have been larger, never this one smaller; the machine bounds it from above.
        Assert.InRange(children.Value.PeakResidentBytes, 300_000_000L, 1L << 40);
        Assert.True(children.Value.CpuSeconds > 0);
        Assert.Null(ProcessUsage.Read(child.Id));
    }
}
