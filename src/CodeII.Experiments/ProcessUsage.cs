using System.Globalization;
using System.Runtime.InteropServices;

namespace CodeII.Experiments;

/// <summary>A process's resident memory, CPU time and bytes fetched from storage (not from the page cache) at one
/// moment, and the machine's load then.</summary>
public readonly record struct UsageSample(DateTime TimeUtc, long ResidentBytes, double CpuSeconds, long StorageReadBytes, double LoadAverage);

/// <summary>
/// What Linux says about a process's memory and CPU time (<c>/proc/&lt;pid&gt;/status</c> and <c>stat</c>), and about
/// the children this process has waited for (<c>getrusage</c>). Elsewhere every reading is null: the figures are
/// for benchmarks, which are measured on Linux.
/// </summary>
public static class ProcessUsage
{
    /// <summary>The process's resident set, CPU time and storage reads now, or null once it has exited (or off Linux).</summary>
    public static UsageSample? Read(int processId)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            long? resident = null;
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) resident = Kilobytes(line) * 1024;
            // Fields 14 and 15 of stat are user and system time in clock ticks; the command name before them may hold
            // spaces, so counting starts after its closing parenthesis.
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long storage = 0;
            foreach (var line in File.ReadLines($"/proc/{processId}/io"))
                if (line.StartsWith("read_bytes:", StringComparison.Ordinal)) storage = long.Parse(line[11..].Trim(), CultureInfo.InvariantCulture);
            return resident is { } bytes ? new UsageSample(DateTime.UtcNow, bytes, ticks / (double)TicksPerSecond, storage, LoadAverage()) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // The process ended between two reads, or its files are gone: there is nothing more to sample.
            return null;
        }
    }

    /// <summary>The largest resident set of any child this process has waited for (and of their waited-for
    /// descendants), and their CPU seconds, user and system: the exact figures a sampled reading may miss.</summary>
    public static (long PeakResidentBytes, double CpuSeconds)? WaitedChildren()
    {
        if (!OperatingSystem.IsLinux()) return null;
        // struct rusage on 64-bit Linux: two timevals (user, system) of two longs each, then ru_maxrss in kB and 13 more longs.
        var usage = new long[18];
        if (GetResourceUsage(ResourceUsageChildren, usage) != 0) return null;
        return (usage[4] * 1024, usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6);
    }

    /// <summary>The machine's one-minute load average: how many threads wanted a core, on average.</summary>
    public static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    static long Kilobytes(string statusLine) =>
        long.Parse(statusLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    static readonly long TicksPerSecond = OperatingSystem.IsLinux() && SystemConfiguration(ClockTicksName) is > 0 and var ticks ? ticks : 100;

    const int ResourceUsageChildren = -1;
    const int ClockTicksName = 2;

    [DllImport("libc", EntryPoint = "getrusage")]
    static extern int GetResourceUsage(int who, [Out] long[] usage);

    [DllImport("libc", EntryPoint = "sysconf")]
    static extern long SystemConfiguration(int name);
}
