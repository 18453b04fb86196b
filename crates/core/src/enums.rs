/// Declares a closed set of snake_case names: the enum, its serde and OpenAPI forms, and the
/// text it is stored as. One declaration, so the wire, the spec and the database agree.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        // Names are the snake_case of the variants (a test checks each `$text` against serde):
        // utoipa reads `rename_all` but not a per-variant rename passed through this macro.
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Whether every stored name is the one serde and the OpenAPI document use.
            #[cfg(test)]
            pub fn names_agree_with_serde() -> bool {
                Self::ALL.iter().all(|v| serde_json::to_value(v).ok() == Some(serde_json::Value::from(v.as_str())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
