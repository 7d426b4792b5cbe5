interface Api {
  /** Creates a new customer object.
   * POST /v1/customers */
  postCustomers(args?: { body?: {
      /** The customer's address. */
      address?: { city?: string; country?: string; line1?: string; line2?: string; postal_code?: string; state?: string } | "";
      /** An integer amount in cents (or local equivalent) that represents the customer's current balance, which affect the… */
      balance?: number;
      /** Balance information and default balance settings for this customer. */
      cash_balance?: { settings?: { reconciliation_mode?: "automatic" | "manual" | "merchant_default" } };
      coupon?: string;
      /** An arbitrary string that you can attach to a customer object. */
      description?: string;
      /** Customer's email address. It's displayed alongside the customer in your dashboard and can be useful for searching and… @maxLength 512 */
      email?: string;
      /** Specifies which fields in the response should be expanded. */
      expand?: string[];
      /** The prefix for the customer used to generate unique invoice numbers. */
      invoice_prefix?: string;
      /** Default invoice settings for this customer. */
      invoice_settings?: { custom_fields?: {
          /** @maxLength 30 */
          name: string;
          /** @maxLength 30 */
          value: string;
        }[] | ""; default_payment_method?: string; footer?: string; rendering_options?: { amount_tax_display?: "" | "exclude_tax" | "include_inclusive_tax" } | "" };
      /** Set of key-value pairs that you can attach to an object. */
      metadata?: { [key: string]: string } | "";
      /** The customer's full name or business name. @maxLength 256 */
      name?: string;
      /** The sequence to be used on the customer's next invoice. */
      next_invoice_sequence?: number;
      payment_method?: string;
      /** The customer's phone number. @maxLength 20 */
      phone?: string;
      /** Customer's preferred languages, ordered by preference. */
      preferred_locales?: string[];
      /** The API ID of a promotion code to apply to the customer. */
      promotion_code?: string;
      /** The customer's shipping information. Appears on invoices emailed to this customer. */
      shipping?: { address: { city?: string; country?: string; line1?: string; line2?: string; postal_code?: string; state?: string }; name: string; phone?: string } | "";
      source?: string;
      /** Tax details about the customer. */
      tax?: { ip_address?: string };
      /** The customer's tax exemption. One of `none`, `exempt`, or `reverse`. */
      tax_exempt?: "" | "exempt" | "none" | "reverse";
      /** The customer's tax IDs. */
      tax_id_data?: { type: "ad_nrt" | "ae_trn" | "ar_cuit" | "au_abn" | "au_arn" | "bg_uic" | "bo_tin" | "br_cnpj" | "br_cpf" | "ca_bn" | "ca_gst_hst" | "ca_pst_bc" | "ca_pst_mb" | "ca_pst_sk" | "ca_qst" | "ch_vat" | "cl_tin" | "cn_tin" | "co_nit" | "cr_tin" | "do_rcn" | "ec_ruc" | "eg_tin" | "es_cif" | "eu_oss_vat" | "eu_vat" | "gb_vat" | "ge_vat" | "hk_br" | "hu_tin" | "id_npwp" | "il_vat" | "in_gst" | "is_vat" | "jp_cn" | "jp_rn" | "jp_trn" | "ke_pin" | "kr_brn" | "li_uid" | "mx_rfc" | "my_frp" | "my_itn" | "my_sst" | "no_vat" | "nz_gst" | "pe_ruc" | "ph_tin" | "ro_tin" | "rs_pib" | "ru_inn" | "ru_kpp" | "sa_vat" | "sg_gst" | "sg_uen" | "si_tin" | "sv_nit" | "th_vat" | "tr_tin" | "tw_vat" | "ua_vat" | "us_ein" | "uy_ruc" | "ve_rif" | "vn_tin" | "za_vat"; value: string }[];
      /** ID of the test clock to attach to the customer. */
      test_clock?: string;
    } }): Promise<Customer>;
}
/** This object represents a customer of your business. */
interface Customer {
  /** The customer's address. */
  address?: Address | null;
  /** Current balance, if any, being stored on the customer. */
  balance?: number;
  /** The current funds being held by Stripe on behalf of the customer. */
  cash_balance?: CashBalance | null;
  /** Time at which the object was created. Measured in seconds since the Unix epoch. @format unix-time */
  created: number;
  /** Three-letter ISO code for the currency the customer can be charged in for recurring billing purposes. */
  currency?: string | null;
  /** ID of the default payment source for the customer. */
  default_source?: string | BankAccount | Card | Source | null;
  /** When the customer's latest invoice is billed by charging automatically, `delinquent` is `true` if the invoice's latest… */
  delinquent?: boolean | null;
  /** An arbitrary string attached to the object. */
  description?: string | null;
  /** Describes the current discount active on the customer, if there is one. */
  discount?: Discount | null;
  /** The customer's email address. */
  email?: string | null;
  /** Unique identifier for the object. */
  id: string;
  /** The current multi-currency balances, if any, being stored on the customer. */
  invoice_credit_balance?: { [key: string]: number };
  /** The prefix for the customer used to generate unique invoice numbers. */
  invoice_prefix?: string | null;
  invoice_settings?: InvoiceSettingCustomerSetting;
  /** Has the value `true` if the object exists in live mode or the value `false` if the object exists in test mode. */
  livemode: boolean;
  /** Set of key-value pairs that you can attach to an object. */
  metadata?: { [key: string]: string };
  /** The customer's full name or business name. */
  name?: string | null;
  /** The suffix of the customer's next invoice number, e.g., 0001. */
  next_invoice_sequence?: number;
  /** String representing the object's type. Objects of the same type share the same value. */
  object: "customer";
  /** The customer's phone number. */
  phone?: string | null;
  /** The customer's preferred locales (languages), ordered by preference. */
  preferred_locales?: string[] | null;
  /** Mailing and shipping address for the customer. */
  shipping?: Shipping | null;
  /** The customer's payment sources, if any. */
  sources?: {
    /** Details about each object. */
    data: (BankAccount | Card | Source)[];
    /** True if this list has another page of items after this one that can be fetched. */
    has_more: boolean;
    /** String representing the object's type. Objects of the same type share the same value. */
    object: "list";
    /** The URL where this list can be accessed. */
    url: string;
  };
  /** The customer's current subscriptions, if any. */
  subscriptions?: {
    /** Details about each object. */
    data: Subscription[];
    /** True if this list has another page of items after this one that can be fetched. */
    has_more: boolean;
    /** String representing the object's type. Objects of the same type share the same value. */
    object: "list";
    /** The URL where this list can be accessed. */
    url: string;
  };
  tax?: CustomerTax;
  /** Describes the customer's tax exemption status. */
  tax_exempt?: "exempt" | "none" | "reverse" | null;
  /** The customer's tax IDs. */
  tax_ids?: {
    /** Details about each object. */
    data: TaxId[];
    /** True if this list has another page of items after this one that can be fetched. */
    has_more: boolean;
    /** String representing the object's type. Objects of the same type share the same value. */
    object: "list";
    /** The URL where this list can be accessed. */
    url: string;
  };
  /** ID of the test clock this customer belongs to. */
  test_clock?: string | TestHelpersTestClock | null;
}
/** Not expanded here (depth limit); search for these names to see them. */
type Address = unknown; type CashBalance = unknown; type BankAccount = unknown; type Card = unknown; type Source = unknown; type Discount = unknown; type InvoiceSettingCustomerSetting = unknown; type Shipping = unknown; type Subscription = unknown; type CustomerTax = unknown; type TaxId = unknown; type TestHelpersTestClock = unknown;
