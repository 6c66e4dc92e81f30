using DatacenterOs.Kernel;

namespace DatacenterOs.Agent.Tests;

public sealed class ResourceDetectorTests
{
    [Fact]
    public void Compose_uses_detected_values_with_reserves_and_default_ports()
    {
        var r = ResourceDetector.Compose(8, 16 * 1024, 100 * 1024, null);

        Assert.Equal(8, r.Cpus);
        Assert.Equal(15 * 1024, r.Mem);
        Assert.Equal(95 * 1024, r.Disk);
        Assert.Equal(ValueRanges.Of(31000, 32000), r.Ports);
        Assert.True(r.Reserved().IsEmpty);
    }

    [Theory]
    [InlineData(1024, 512)]       // small machine: half is reserved
    [InlineData(2047, 1023.5)]
    [InlineData(2048, 1024)]      // from 2 GiB on: 1 GiB reserved
    [InlineData(65536, 64512)]
    public void Memory_reserve_is_half_under_2GiB_else_1GiB(double total, double expected) =>
        Assert.Equal(expected, ResourceDetector.MemoryAfterReserve(total));

    [Fact]
    public void Explicit_memory_reserve_wins_and_never_goes_negative()
    {
        Assert.Equal(3072, ResourceDetector.MemoryAfterReserve(4096, 1024));
        Assert.Equal(0, ResourceDetector.MemoryAfterReserve(512, 1024));
        Assert.Equal(3072, ResourceDetector.Compose(1, 4096, 0, null, memoryReserveMiB: 1024).Mem);
    }

    [Fact]
    public void Disk_reserve_is_5GiB_and_never_negative()
    {
        Assert.Equal(0, ResourceDetector.Compose(1, 4096, 1024, null).Disk);
        Assert.Equal(1024, ResourceDetector.Compose(1, 4096, 6 * 1024, null).Disk);
    }

    [Fact]
    public void Override_replaces_each_named_resource_and_keeps_the_others()
    {
        var r = ResourceDetector.Compose(8, 16 * 1024, 100 * 1024, "cpus:2;ports:[5000-5010]");

        Assert.Equal(2, r.Cpus);
        Assert.Equal(ValueRanges.Of(5000, 5010), r.Ports);
        Assert.Equal(15 * 1024, r.Mem);
        Assert.Equal(95 * 1024, r.Disk);
    }

    [Fact]
    public void Override_with_static_reservations_replaces_the_whole_name()
    {
        var r = ResourceDetector.Compose(8, 16 * 1024, 100 * 1024, "cpus(web):2;cpus:1;mem(web):1024;gpus:1");

        Assert.Equal(3, r.Cpus);
        Assert.Equal(2, r.ReservedTo("web").Cpus);
        Assert.Equal(1024, r.Mem); // mem named in the override: the detected mem is gone
        Assert.Equal(1, r.Gpus);
        Assert.Equal(95 * 1024, r.Disk);
    }

    [Fact]
    public void Malformed_override_throws()
    {
        Assert.Throws<ResourceParseException>(() => ResourceDetector.Compose(1, 1024, 0, "cpus:abc"));
    }

    [Fact]
    public void Meminfo_parsing()
    {
        Assert.Equal(24105.55078125, ResourceDetector.ParseMemTotalMiB("MemTotal:       24684084 kB\nMemFree: 1 kB\n"));
        Assert.Null(ResourceDetector.ParseMemTotalMiB("MemFree: 1 kB\n"));
    }

    [Fact]
    public void Detect_reads_this_machine()
    {
        using var dir = new TempWorkDir();
        var r = ResourceDetector.Detect(dir.Options() with { ResourcesText = "disk:100" });

        Assert.Equal(Environment.ProcessorCount, r.Cpus);
        Assert.True(r.Mem > 0);
        Assert.Equal(100, r.Disk);
        Assert.Equal(ValueRanges.Of(31000, 32000), r.Ports);
    }

    [Fact]
    public void Attributes_text_parses_to_a_dictionary()
    {
        var attributes = AgentOptions.ParseAttributes(" rack:r1; zone:a ;;");

        Assert.Equal(2, attributes.Count);
        Assert.Equal("r1", attributes["rack"]);
        Assert.Equal("a", attributes["zone"]);
        Assert.Empty(AgentOptions.ParseAttributes(null));
        Assert.Throws<FormatException>(() => AgentOptions.ParseAttributes("rack"));
    }
}
