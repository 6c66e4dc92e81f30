using DatacenterOs.Jobs.Core;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Jobs;

/// <summary>Jobs whose <c>container</c> is Docker: the Mesos <c>ContainerInfo</c> of their tasks and where they may run.</summary>
internal static class DockerJobs
{
    /// <summary>True when the job runs in a Docker container (type DOCKER with an image).</summary>
    public static bool NeedsDocker(JobDefinition job) =>
        job.Container is { Image.Length: > 0 } c && string.Equals(c.Type, ContainerTypes.Docker, StringComparison.OrdinalIgnoreCase);

    /// <summary>False for a Docker job on an agent that does not advertise Docker (attribute <c>docker</c>).</summary>
    public static bool Accepts(JobDefinition job, IReadOnlyDictionary<string, string> attributes) =>
        !NeedsDocker(job) || attributes.ContainsKey(AgentCapabilities.DockerAttribute);

    /// <summary>The task's container for a Docker job (image, network, host volumes, parameters, forcePullImage); null otherwise.</summary>
    public static ContainerInfoDto? ContainerOf(JobDefinition job)
    {
        if (!NeedsDocker(job))
        {
            return null;
        }

        var container = job.Container!;
        var volumes = container.Volumes
            .Where(v => !string.IsNullOrEmpty(v.HostPath))
            .Select(v => new VolumeDto { ContainerPath = v.ContainerPath, HostPath = v.HostPath, Mode = string.IsNullOrEmpty(v.Mode) ? "RW" : v.Mode.ToUpperInvariant() })
            .ToList();
        return new ContainerInfoDto
        {
            Type = ContainerInfoTypes.Docker,
            Docker = new DockerInfoDto
            {
                Image = container.Image,
                Network = string.IsNullOrEmpty(container.Network) ? DockerNetworkModes.Host : container.Network.ToUpperInvariant(),
                ForcePullImage = container.ForcePullImage ? true : null,
                Parameters = container.Parameters.Count == 0 ? null : [.. container.Parameters.Select(p => new ParameterDto(p.Key, p.Value))],
            },
            Volumes = volumes.Count == 0 ? null : volumes,
        };
    }
}
