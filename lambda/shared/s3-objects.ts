/** Object listings, written once (AWS access layer), through the SDK's own paginator. */
import { paginateListObjectsV2, type _Object, type S3Client } from '@aws-sdk/client-s3';

/** Every object under `prefix`, all pages; SDK faults are thrown raw. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    out.push(...(page.Contents ?? []));
  }
  return out;
}
