using TorchSharp;

namespace Actors.Learning.Tests;

public class TorchLoadsSpec
{
    // Fails at once if the build's ELF fix for libLibTorchSharp.so regresses (TypeInitializationException on Debian 12).
    [Fact]
    public void Creating_a_tensor_works()
    {
        using var a = torch.ones(2, 3);
        using var b = torch.full(3, 2, 2f); // [3, 2] of 2s: each product entry is 6
        using var c = a.matmul(b);
        Assert.Equal(24f, c.sum().item<float>());
    }

    // The allocator policy docs/architecture.md describes is really in force on glibc Linux (the CI machine).
    [Fact]
    public void Initialization_keeps_freed_tensor_memory_in_the_process_on_glibc()
    {
        Actors.Learning.Util.TorchSetup.Initialize();
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("ACTORS_MALLOC_DEFAULTS") == "1") return;
        Assert.True(Actors.Learning.Util.TorchSetup.KeepsFreedMemory);
    }
}
