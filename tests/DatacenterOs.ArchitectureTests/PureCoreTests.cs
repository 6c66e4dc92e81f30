using System.Reflection;
using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.ArchitectureTests;

/// <summary>
/// Dependency rules of the architecture: pure cores reference no I/O library. (Ambient time, ids and randomness are
/// banned at compile time in pure cores by BannedApiAnalyzers, eng/BannedSymbols.PureCore.txt.)
/// </summary>
public sealed class PureCoreTests
{
    private static readonly string[] ForbiddenInPureCores =
    [
        "System.Net", "System.IO.FileSystem", "System.Console", "System.Diagnostics.Process", "System.Data",
        "Microsoft.Data", "Npgsql", "Dapper", "Quartz", "Microsoft.AspNetCore", "Microsoft.Extensions.Hosting",
        "System.Net.Http", "System.Net.Sockets",
    ];

    // Third-party libraries a pure core may use: pure computation only (cron parsing), no I/O.
    private static readonly string[] AllowedPureLibraries = ["NCrontab.Signed"];

    public static TheoryData<string> PureCores => new() { typeof(Allocator).Assembly.GetName().Name!, "DatacenterOs.Apps.Core", "DatacenterOs.Jobs.Core" };

    [Theory]
    [MemberData(nameof(PureCores))]
    public void Pure_cores_reference_no_IO_assembly(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var references = assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.NotEmpty(references);
        var offending = references.Where(r => ForbiddenInPureCores.Any(f => r == f || r.StartsWith(f + ".", StringComparison.Ordinal))).ToList();
        Assert.True(offending.Count == 0, $"{assemblyName} references I/O assemblies: {string.Join(", ", offending)}");
    }

    [Theory]
    [MemberData(nameof(PureCores))]
    public void Pure_cores_reference_only_the_base_library(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var nonSystem = assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => !n.StartsWith("System.", StringComparison.Ordinal) && n != "System" && n != "netstandard" && n != "mscorlib")
            .Where(n => !AllowedPureLibraries.Contains(n))
            .ToList();

        Assert.True(nonSystem.Count == 0, $"{assemblyName} references {string.Join(", ", nonSystem)}");
    }

    [Fact]
    public void Public_kernel_types_are_documented()
    {
        var assembly = typeof(Allocator).Assembly;
        var xml = Path.ChangeExtension(assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"XML documentation file {xml} is missing (GenerateDocumentationFile)");
        var doc = File.ReadAllText(xml);
        var undocumented = assembly.GetExportedTypes().Where(t => !doc.Contains("\"T:" + t.FullName!.Replace('+', '.') + "\"", StringComparison.Ordinal)).ToList();
        Assert.True(undocumented.Count == 0, "undocumented: " + string.Join(", ", undocumented));
    }
}

/// <summary>Dependency direction between projects: frameworks reach the kernel only through the client and contracts.</summary>
public sealed class DependencyDirectionTests
{
    [Theory]
    [InlineData("DatacenterOs.Frameworks.Client", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage" })]
    [InlineData("DatacenterOs.Kernel.Contracts", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Frameworks.Client" })]
    [InlineData("DatacenterOs.Master", new[] { "DatacenterOs.Agent", "DatacenterOs.Frameworks.Client" })]
    [InlineData("DatacenterOs.Agent", new[] { "DatacenterOs.Master", "DatacenterOs.Storage", "DatacenterOs.Frameworks.Client" })]
    [InlineData("DatacenterOs.Apps", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Kernel" })]
    [InlineData("DatacenterOs.Jobs", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Kernel", "DatacenterOs.Apps", "DatacenterOs.Apps.Core" })]
    [InlineData("DatacenterOs.Web", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Kernel", "DatacenterOs.Frameworks.Client", "DatacenterOs.Apps", "DatacenterOs.Apps.Core", "DatacenterOs.Jobs", "DatacenterOs.Jobs.Core" })]
    [InlineData("DatacenterOs.Jobs.Core", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Kernel", "DatacenterOs.Frameworks.Client", "DatacenterOs.Apps.Core" })]
    [InlineData("dcos", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Apps", "DatacenterOs.Jobs", "DatacenterOs.Frameworks.Client", "DatacenterOs.Kernel" })]
    [InlineData("DatacenterOs.Apps.Contracts", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Apps", "DatacenterOs.Jobs", "DatacenterOs.Frameworks.Client" })]
    [InlineData("DatacenterOs.Jobs.Contracts", new[] { "DatacenterOs.Master", "DatacenterOs.Agent", "DatacenterOs.Storage", "DatacenterOs.Apps", "DatacenterOs.Jobs", "DatacenterOs.Frameworks.Client" })]
    public void Projects_do_not_reference_what_the_architecture_forbids(string assemblyName, string[] forbidden)
    {
        var references = Assembly.Load(assemblyName).GetReferencedAssemblies().Select(a => a.Name!).ToList();
        var offending = references.Intersect(forbidden).ToList();
        Assert.True(offending.Count == 0, $"{assemblyName} references {string.Join(", ", offending)}");
    }
}
