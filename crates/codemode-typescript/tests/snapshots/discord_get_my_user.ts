interface Api {
  /** GET /users/@me */
  getMyUser(): Promise<UserPIIResponse>;
}
interface UserPIIResponse {
  /** the user's id */
  id: SnowflakeType;
  /** the user's username, not unique across the platform */
  username: string;
  /** the user's avatar hash */
  avatar: string | null;
  /** the user's Discord-tag */
  discriminator: string;
  /** the public flags on a user's account */
  public_flags: number;
  /** the flags on a user's account */
  flags: Int53Type;
  /** whether the user belongs to an OAuth2 application */
  bot?: boolean;
  /** whether the user is an Official Discord System user (part of the urgent message system) */
  system?: boolean;
  /** the user's banner hash */
  banner?: string | null;
  /** the user's banner color encoded as an integer representation of hexadecimal color code */
  accent_color?: number | null;
  /** the user's display name, if it is set */
  global_name: string | null;
  /** data for the user's avatar decoration */
  avatar_decoration_data?: null | UserAvatarDecorationResponse;
  /** data for the user's collectibles */
  collectibles?: null | UserCollectiblesResponse;
  primary_guild?: null | UserPrimaryGuildResponse;
  mfa_enabled: boolean;
  locale: AvailableLocalesEnum;
  premium_type?: PremiumTypes;
  email?: string | null;
  verified?: boolean;
}
type SnowflakeType = string;
type Int53Type = number;
type PremiumTypes = 0 | 1 | 2 | 3;
/** Not expanded here (depth limit); search for these names to see them. */
type UserAvatarDecorationResponse = unknown; type UserCollectiblesResponse = unknown; type UserPrimaryGuildResponse = unknown; type AvailableLocalesEnum = unknown;
