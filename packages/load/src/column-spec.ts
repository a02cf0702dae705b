/**
 * Maps Arrow field types to Parquet leaf columns: physical type, logical type
 * (plus the legacy converted_type so old and new readers agree) and the value
 * encoder family used by the page encoder.
 */
import { DateUnit, Precision, TimeUnit, Type } from 'apache-arrow';
import type { DataType, Field, Schema } from 'apache-arrow';
import { SluiceError } from '@sluice/core';
import { ConvertedType, PhysicalType, Repetition } from './parquet-format.js';
import type { SchemaLeaf } from './parquet-format.js';

/**
 * How values are laid out in a PLAIN page:
 * - `fixed`: little-endian copy of the Arrow value buffer (4 or 8 bytes a value);
 * - `widen`: 8/16-bit Arrow integers widened to INT32;
 * - `bool`: bit-packed, LSB first;
 * - `utf8`: 4-byte length + bytes;
 * - `dict-utf8`: an Arrow Dictionary<int, Utf8> column, written as plain strings.
 */
export type ValueKind = 'fixed' | 'widen' | 'bool' | 'utf8' | 'dict-utf8';

/** Which min/max statistics the encoder computes. */
export type StatKind = 'i32' | 'i64' | 'f32' | 'f64' | 'none';

export interface ColumnSpec {
  index: number;
  name: string;
  nullable: boolean;
  leaf: SchemaLeaf;
  kind: ValueKind;
  /** Output bytes per value for fixed/widen columns; 0 otherwise. */
  width: number;
  stat: StatKind;
  /** Used to check that every batch matches the schema the dataset was opened with. */
  typeKey: string;
}

export type LoadErrorCode = 'UNSUPPORTED_TYPE' | 'SCHEMA_MISMATCH' | 'WRITER_CLOSED' | 'INVALID_OPTION' | 'IO';

function unsupported(field: Field, why: string): SluiceError<LoadErrorCode> {
  return new SluiceError<LoadErrorCode>(
    'UNSUPPORTED_TYPE',
    `column "${field.name}" has Arrow type ${String(field.type)}, which the Parquet writer does not support (${why}); ` +
      'cast it to Int32, Int64, Float64, Bool, DateDay, Timestamp or Utf8 before loading',
    { stage: 'load' },
  );
}

export function typeKey(t: DataType): string {
  return String(t);
}

export function columnSpec(field: Field, index: number): ColumnSpec {
  const t = field.type as DataType;
  const base = {
    index,
    name: field.name,
    nullable: field.nullable,
    typeKey: typeKey(t),
  };
  const repetition = field.nullable ? Repetition.OPTIONAL : Repetition.REQUIRED;
  const leaf = (type: PhysicalType, extra: Partial<SchemaLeaf> = {}): SchemaLeaf => ({
    name: field.name,
    type,
    repetition,
    ...extra,
  });

  switch (t.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = t as unknown as { bitWidth: 8 | 16 | 32 | 64; isSigned: boolean };
      if (bitWidth === 64) {
        if (!isSigned) throw unsupported(field, 'unsigned 64-bit integers');
        return { ...base, leaf: leaf(PhysicalType.INT64), kind: 'fixed', width: 8, stat: 'i64' };
      }
      if (bitWidth === 32) {
        if (!isSigned) throw unsupported(field, 'unsigned 32-bit integers');
        return { ...base, leaf: leaf(PhysicalType.INT32), kind: 'fixed', width: 4, stat: 'i32' };
      }
      const converted = isSigned
        ? bitWidth === 8 ? ConvertedType.INT_8 : ConvertedType.INT_16
        : bitWidth === 8 ? ConvertedType.UINT_8 : ConvertedType.UINT_16;
      return {
        ...base,
        leaf: leaf(PhysicalType.INT32, {
          convertedType: converted,
          logicalType: { kind: 'INTEGER', bitWidth, isSigned },
        }),
        kind: 'widen',
        width: 4,
        stat: 'i32',
      };
    }
    case Type.Float: {
      const precision = (t as unknown as { precision: Precision }).precision;
      if (precision === Precision.DOUBLE)
        return { ...base, leaf: leaf(PhysicalType.DOUBLE), kind: 'fixed', width: 8, stat: 'f64' };
      if (precision === Precision.SINGLE)
        return { ...base, leaf: leaf(PhysicalType.FLOAT), kind: 'fixed', width: 4, stat: 'f32' };
      throw unsupported(field, 'half floats');
    }
    case Type.Bool:
      return { ...base, leaf: leaf(PhysicalType.BOOLEAN), kind: 'bool', width: 0, stat: 'none' };
    case Type.Utf8:
      return {
        ...base,
        leaf: leaf(PhysicalType.BYTE_ARRAY, { convertedType: ConvertedType.UTF8, logicalType: { kind: 'STRING' } }),
        kind: 'utf8',
        width: 0,
        stat: 'none',
      };
    case Type.Dictionary: {
      const d = t as unknown as { dictionary: DataType };
      if (d.dictionary.typeId !== Type.Utf8) throw unsupported(field, 'only dictionaries of Utf8 values');
      return {
        ...base,
        leaf: leaf(PhysicalType.BYTE_ARRAY, { convertedType: ConvertedType.UTF8, logicalType: { kind: 'STRING' } }),
        kind: 'dict-utf8',
        width: 0,
        stat: 'none',
      };
    }
    case Type.Date: {
      if ((t as unknown as { unit: DateUnit }).unit !== DateUnit.DAY) throw unsupported(field, 'only DateDay is supported');
      return {
        ...base,
        leaf: leaf(PhysicalType.INT32, { convertedType: ConvertedType.DATE, logicalType: { kind: 'DATE' } }),
        kind: 'fixed',
        width: 4,
        stat: 'i32',
      };
    }
    case Type.Timestamp: {
      const { unit, timezone } = t as unknown as { unit: TimeUnit; timezone: string | null | undefined };
      const adjusted = timezone !== null && timezone !== undefined && timezone !== '';
      let pUnit: 'MILLIS' | 'MICROS' | 'NANOS';
      if (unit === TimeUnit.MILLISECOND) pUnit = 'MILLIS';
      else if (unit === TimeUnit.MICROSECOND) pUnit = 'MICROS';
      else if (unit === TimeUnit.NANOSECOND) pUnit = 'NANOS';
      else throw unsupported(field, 'timestamps in seconds; use milli-, micro- or nanoseconds');
      // The legacy TIMESTAMP_* converted types mean "UTC-adjusted", so only set them then.
      const convertedType =
        adjusted && pUnit !== 'NANOS'
          ? pUnit === 'MILLIS' ? ConvertedType.TIMESTAMP_MILLIS : ConvertedType.TIMESTAMP_MICROS
          : undefined;
      return {
        ...base,
        leaf: leaf(PhysicalType.INT64, {
          ...(convertedType === undefined ? {} : { convertedType }),
          logicalType: { kind: 'TIMESTAMP', isAdjustedToUTC: adjusted, unit: pUnit },
        }),
        kind: 'fixed',
        width: 8,
        stat: 'i64',
      };
    }
    default:
      throw unsupported(field, 'no mapping');
  }
}

export function columnSpecs(schema: Schema): ColumnSpec[] {
  const seen = new Set<string>();
  return schema.fields.map((f, i) => {
    if (seen.has(f.name))
      throw new SluiceError<LoadErrorCode>(
        'SCHEMA_MISMATCH',
        `column name "${f.name}" appears twice; Parquet column paths must be unique, so rename one of them`,
        { stage: 'load' },
      );
    seen.add(f.name);
    return columnSpec(f, i);
  });
}
