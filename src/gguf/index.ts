/** Public GGUF API (browser-safe; `writeGgufFile` lives in ./write-file.ts for Node). */
export { openGguf, type GgufFile, type GgufPart, type GgufSource, type TensorInfo } from './reader.ts';
export { parseSplitName, splitPartName, splitPartNames } from './split.ts';
export { serializeGguf, splitGgufSpec, chunksByteLength, quantizedTensor, type GgufSpec, type GgufMetadataEntry, type GgufTensorSpec } from './writer.ts';
export { dequantize, quantize, isCodecSupported, SUPPORTED_CODEC_TYPES, f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from './codecs/index.ts';
export { GgmlType, typeName, tensorByteLength, rowByteLength, blockLayout, elementCount, QK_K, type GgmlTypeId, type GgmlTypeName } from './types.ts';
export type { GgufValue, GgufValueType, GgufScalarType } from './value-types.ts';
export type { ByteSource } from './byte-source.ts';
export { blobSource, urlSource } from './byte-source.ts';
