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

    /// <summary>Loads libtorch once; <paramref name="threads"/> caps its intra-op threads (null: all cores).</summary>
    public static void EnsureLoaded(int? threads = null)
    {
        lock (Gate)
        {
            if (!_ready)
            {
                // A value the user set (including 0 to turn it off) wins: overwrite = 0.
                if (OperatingSystem.IsLinux()) SetNativeEnvironment("THP_MEM_ALLOC_ENABLE", "1", 0);
                try
                {
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
