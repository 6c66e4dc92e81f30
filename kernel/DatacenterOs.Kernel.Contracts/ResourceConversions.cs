using System.Globalization;

namespace DatacenterOs.Kernel.Contracts;

/// <summary>
/// Converts between the kernel's <see cref="Resources"/> and the Mesos v1 JSON <see cref="ResourceDto"/> list.
/// Reservations are read from the refinement stack (<c>reservations</c>, last entry wins) or the legacy <c>role</c>
/// field; written in both forms so frameworks with and without RESERVATION_REFINEMENT understand them.
/// </summary>
public static class ResourceConversions
{
    /// <summary>Converts JSON resources to kernel resources.</summary>
    /// <exception cref="FormatException">A resource is malformed (unknown type, missing value, negative or bad role); the message names it.</exception>
    public static Resources ToResources(IEnumerable<ResourceDto>? dtos)
    {
        if (dtos is null)
        {
            return Resources.Empty;
        }

        var list = new List<Resource>();
        foreach (var dto in dtos)
        {
            list.Add(ToResource(dto));
        }

        try
        {
            return Resources.Of(list);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Converts one JSON resource.</summary>
    /// <exception cref="FormatException">The resource is malformed.</exception>
    public static Resource ToResource(ResourceDto dto)
    {
        ArgumentNullException.ThrowIfNull(dto);
        var role = dto.Reservations is { Count: > 0 } stack ? stack[^1].Role : dto.Role;
        if (role == "*")
        {
            role = null;
        }

        try
        {
            return dto.Type switch
            {
                "SCALAR" => Resource.CreateScalar(dto.Name, dto.Scalar?.Value ?? throw new FormatException($"resource '{dto.Name}' of type SCALAR has no 'scalar'"), role),
                "RANGES" => Resource.CreateRanges(dto.Name, ValueRanges.Of((dto.Ranges?.Range ?? throw new FormatException($"resource '{dto.Name}' of type RANGES has no 'ranges'")).Select(r => new ValueRange(r.Begin, r.End))), role),
                "SET" => Resource.CreateSet(dto.Name, dto.Set?.Item ?? throw new FormatException($"resource '{dto.Name}' of type SET has no 'set'"), role),
                _ => throw new FormatException($"resource '{dto.Name}' has unknown type '{dto.Type}' (SCALAR, RANGES or SET)"),
            };
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"resource '{dto.Name}': {e.Message.Split(" (Parameter")[0]}", e);
        }
    }

    /// <summary>Converts kernel resources to JSON, stamping <c>allocation_info.role</c> when <paramref name="allocationRole"/> is given.</summary>
    public static List<ResourceDto> ToDtos(Resources resources, string? allocationRole = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var list = new List<ResourceDto>(resources.Count);
        foreach (var r in resources)
        {
            list.Add(new ResourceDto
            {
                Name = r.Name,
                Type = r.Type switch { ResourceType.Scalar => "SCALAR", ResourceType.Ranges => "RANGES", _ => "SET" },
                Scalar = r.Type == ResourceType.Scalar ? new ScalarDto(r.Scalar) : null,
                Ranges = r.Type == ResourceType.Ranges ? new RangesDto([.. r.Ranges.Ranges.ToArray().Select(x => new RangeDto(x.Begin, x.End))]) : null,
                Set = r.Type == ResourceType.Set ? new SetDto([.. r.SetItems]) : null,
                Role = r.Role ?? "*",
                Reservations = r.Role is null ? null : [new ReservationDto { Type = "STATIC", Role = r.Role }],
                AllocationInfo = allocationRole is null ? null : new AllocationInfoDto(allocationRole),
            });
        }

        return list;
    }

    /// <summary>Converts agent attributes to Mesos TEXT (or SCALAR when numeric) attributes.</summary>
    public static List<AttributeDto> ToAttributes(IReadOnlyDictionary<string, string> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return [.. attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
            double.TryParse(kv.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                ? new AttributeDto { Name = kv.Key, Type = "SCALAR", Scalar = new ScalarDto(number) }
                : new AttributeDto { Name = kv.Key, Type = "TEXT", Text = new TextDto(kv.Value) })];
    }

    /// <summary>Converts Mesos attributes back to name → text.</summary>
    public static Dictionary<string, string> FromAttributes(IEnumerable<AttributeDto>? attributes) =>
        (attributes ?? []).ToDictionary(
            a => a.Name,
            a => a.Text?.Value ?? a.Scalar?.Value.ToString(CultureInfo.InvariantCulture) ?? "",
            StringComparer.Ordinal);
}
