using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// An immutable list with structural equality, so records that hold lists compare by content. Serialized as a JSON
/// array.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
[JsonConverter(typeof(ValueListJsonConverterFactory))]
[CollectionBuilder(typeof(ValueList), nameof(ValueList.Create))]
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly ImmutableArray<T> items;

    internal ValueList(ImmutableArray<T> items) => this.items = items;

    /// <summary>The empty list.</summary>
    [SuppressMessage("Design", "CA1000", Justification = "Same pattern as ImmutableArray<T>.Empty.")]
    public static ValueList<T> Empty { get; } = new([]);

    /// <inheritdoc/>
    public int Count => items.Length;

    /// <summary>True when the list has no elements.</summary>
    public bool IsEmpty => items.IsEmpty;

    /// <inheritdoc/>
    public T this[int index] => items[index];

    /// <summary>A copy with <paramref name="item"/> appended.</summary>
    public ValueList<T> Add(T item) => new(items.Add(item));

    /// <summary>A copy with the element at <paramref name="index"/> replaced.</summary>
    public ValueList<T> SetItem(int index, T item) => new(items.SetItem(index, item));

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(ValueList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || items.SequenceEqual(other.items, EqualityComparer<T>.Default));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in items)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => "[" + string.Join(", ", items) + "]";
}

/// <summary>Factory methods for <see cref="ValueList{T}"/>.</summary>
public static class ValueList
{
    /// <summary>Creates a list from a span (collection expressions use this).</summary>
    public static ValueList<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? ValueList<T>.Empty : new([.. items]);

    /// <summary>Creates a list from a sequence.</summary>
    public static ValueList<T> From<T>(IEnumerable<T> items) => new([.. items]);

    /// <summary>Creates a list from a sequence (extension form).</summary>
    public static ValueList<T> ToValueList<T>(this IEnumerable<T> items) => From(items);
}

/// <summary>
/// An immutable string-keyed map that keeps insertion order (for stable JSON) and compares by content regardless of
/// order. Serialized as a JSON object; a repeated key keeps the last value.
/// </summary>
/// <typeparam name="TValue">Value type.</typeparam>
[JsonConverter(typeof(ValueDictionaryJsonConverterFactory))]
public sealed class ValueDictionary<TValue> : IReadOnlyDictionary<string, TValue>, IEquatable<ValueDictionary<TValue>>
{
    private readonly ImmutableArray<KeyValuePair<string, TValue>> entries;
    private readonly ImmutableDictionary<string, TValue> lookup;

    private ValueDictionary(ImmutableArray<KeyValuePair<string, TValue>> entries)
    {
        this.entries = entries;
        lookup = entries.ToImmutableDictionary(StringComparer.Ordinal);
    }

    /// <summary>The empty map.</summary>
    [SuppressMessage("Design", "CA1000", Justification = "Same pattern as ImmutableDictionary<TKey, TValue>.Empty.")]
    public static ValueDictionary<TValue> Empty { get; } = new([]);

    /// <summary>Creates a map; later duplicates of a key replace earlier ones in place.</summary>
    [SuppressMessage("Design", "CA1000", Justification = "Factory next to Empty, as ImmutableDictionary does.")]
    public static ValueDictionary<TValue> From(IEnumerable<KeyValuePair<string, TValue>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var list = new List<KeyValuePair<string, TValue>>();
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            if (positions.TryGetValue(pair.Key, out var at))
            {
                list[at] = pair;
            }
            else
            {
                positions[pair.Key] = list.Count;
                list.Add(pair);
            }
        }

        return list.Count == 0 ? Empty : new([.. list]);
    }

    /// <inheritdoc/>
    public TValue this[string key] => lookup[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => entries.Select(e => e.Key);

    /// <inheritdoc/>
    public IEnumerable<TValue> Values => entries.Select(e => e.Value);

    /// <inheritdoc/>
    public int Count => entries.Length;

    /// <summary>True when the map has no entries.</summary>
    public bool IsEmpty => entries.IsEmpty;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => lookup.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, out TValue value) => lookup.TryGetValue(key, out value!);

    /// <summary>A copy with <paramref name="key"/> set to <paramref name="value"/> (kept in place if present).</summary>
    public ValueDictionary<TValue> SetItem(string key, TValue value) =>
        From(entries.Append(new KeyValuePair<string, TValue>(key, value)));

    /// <summary>A copy without <paramref name="key"/>.</summary>
    public ValueDictionary<TValue> Remove(string key) => From(entries.Where(e => !string.Equals(e.Key, key, StringComparison.Ordinal)));

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, TValue>>)entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(ValueDictionary<TValue>? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }

        var comparer = EqualityComparer<TValue>.Default;
        foreach (var (key, value) in entries)
        {
            if (!other.lookup.TryGetValue(key, out var otherValue) || !comparer.Equals(value, otherValue))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ValueDictionary<TValue>);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        // Order-insensitive: XOR of the entry hashes.
        var hash = 0;
        foreach (var (key, value) in entries)
        {
            hash ^= HashCode.Combine(StringComparer.Ordinal.GetHashCode(key), value);
        }

        return hash;
    }

    /// <inheritdoc/>
    public override string ToString() => "{" + string.Join(", ", entries.Select(e => $"{e.Key}={e.Value}")) + "}";
}

/// <summary>Factory methods for <see cref="ValueDictionary{TValue}"/>.</summary>
public static class ValueDictionary
{
    /// <summary>Creates a map from key/value tuples.</summary>
    public static ValueDictionary<TValue> Of<TValue>(params ReadOnlySpan<(string Key, TValue Value)> pairs)
    {
        var list = new List<KeyValuePair<string, TValue>>(pairs.Length);
        foreach (var (key, value) in pairs)
        {
            list.Add(new(key, value));
        }

        return ValueDictionary<TValue>.From(list);
    }
}

internal sealed class ValueListJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ValueList<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(ValueListJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class ValueListJsonConverter<T> : JsonConverter<ValueList<T>>
{
    public override ValueList<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"expected a JSON array, got {reader.TokenType}");
        }

        var builder = ImmutableArray.CreateBuilder<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var item = JsonSerializer.Deserialize<T>(ref reader, options);
            if (item is null)
            {
                throw new JsonException($"null is not allowed as an array element of {typeof(T).Name}");
            }

            builder.Add(item);
        }

        return builder.Count == 0 ? ValueList<T>.Empty : new ValueList<T>(builder.ToImmutable());
    }

    public override void Write(Utf8JsonWriter writer, ValueList<T> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            JsonSerializer.Serialize(writer, item, options);
        }

        writer.WriteEndArray();
    }
}

internal sealed class ValueDictionaryJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(ValueDictionary<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(ValueDictionaryJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class ValueDictionaryJsonConverter<TValue> : JsonConverter<ValueDictionary<TValue>>
{
    public override ValueDictionary<TValue> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"expected a JSON object, got {reader.TokenType}");
        }

        var pairs = new List<KeyValuePair<string, TValue>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            var value = JsonSerializer.Deserialize<TValue>(ref reader, options);
            if (value is null)
            {
                throw new JsonException($"null is not allowed as the value of '{key}'");
            }

            pairs.Add(new(key, value));
        }

        return ValueDictionary<TValue>.From(pairs);
    }

    public override void Write(Utf8JsonWriter writer, ValueDictionary<TValue> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, item) in value)
        {
            writer.WritePropertyName(key);
            JsonSerializer.Serialize(writer, item, options);
        }

        writer.WriteEndObject();
    }
}
