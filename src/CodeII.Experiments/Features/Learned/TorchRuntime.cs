using System.Runtime.InteropServices;
using TorchSharp;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// The one door to libtorch. Before the first torch call it turns on libtorch's transparent-huge-page allocator
/// (THP_MEM_ALLOC_ENABLE=1): as shipped, TorchSharp spends its time in page faults and runs at 0.82–0.86× PyTorch;
/// with it, 1.10–1.16× (../shared/PLATFORM.md). The variable must go through libc's setenv, because .NET's
/// Environment.SetEnvironmentVariable does not reach native code on Linux.
/// </summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool _ready;

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetNativeEnvironment(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallocOption(int parameter, int value);

    const int MallocTrimThreshold = -1, MallocMmapThreshold = -3, MallocMmapMax = -4;

    /// <summary>How native memory is handed to libtorch: "reuse" (the default), "threshold", or "default" (glibc's own).</summary>
    public static string MallocPolicy { get; private set; } = "default";

    /// <summary>
    /// libtorch on the CPU has no caching allocator: every activation and gradient is malloc'd and freed each batch,
    /// and glibc serves blocks above 128 kB–32 MB with fresh mmaps, which the kernel must fault in and zero again
    /// every time. Keeping them in the heap instead ("reuse": no mmaps, no trimming) lets later batches reuse the
    /// same pages: page faults fell from 5.6M to 0.4M in <c>codeii bench torch</c>, for a larger resident set.
    /// CODEII_TORCH_MALLOC=threshold keeps mmaps only above 32 MB; =default leaves glibc as it is.
    /// </summary>
    static void ConfigureNativeAllocator()
    {
        if (!OperatingSystem.IsLinux()) return;
        var policy = Environment.GetEnvironmentVariable("CODEII_TORCH_MALLOC") ?? "reuse";
        try
        {
            switch (policy)
            {
                case "reuse":
                    MallocOption(MallocMmapMax, 0);
                    MallocOption(MallocTrimThreshold, int.MaxValue);
                    break;
                case "threshold":
                    MallocOption(MallocMmapThreshold, 32 << 20);
                    MallocOption(MallocTrimThreshold, int.MaxValue);
                    break;
                default:
                    policy = "default";
                    break;
            }
            MallocPolicy = policy;
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl, for one): its allocator has no such options.
        }
    }

    /// <summary>Loads libtorch once; <paramref name="threads"/> caps its intra-op threads (null: all cores).</summary>
    public static void EnsureLoaded(int? threads = null)
    {
        lock (Gate)
        {
            if (!_ready)
            {
                // A value the user set (including 0 to turn it off) wins: overwrite = 0.
                if (OperatingSystem.IsLinux()) SetNativeEnvironment("THP_MEM_ALLOC_ENABLE", "1", 0);
                ConfigureNativeAllocator();
                try
                {
                    TorchSharpNativeLoader.PrepareIfNeeded();
                    torch.InitializeDeviceType(DeviceType.CPU);
                }
                catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
                {
                    throw new InvalidOperationException(
                        "libtorch could not be loaded. The learned-feature branch needs the libtorch-cpu-linux-x64 package in the " +
                        "application that runs it (the codeii CLI and the tests reference it) and, on Debian 12, the build's " +
                        $"TorchSharp load fix (build/TorchSharp.targets). Underlying error: {e.GetBaseException().Message}", e);
                }
                _ready = true;
            }
            if (threads is { } n) torch.set_num_threads(Math.Max(1, n));
        }
    }
}
