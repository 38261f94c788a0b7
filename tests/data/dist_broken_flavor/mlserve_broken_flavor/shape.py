"""An object that is not a flavor: it has a name but none of the methods."""


class NotAFlavor:
    name = "wrong_shape"


flavor = NotAFlavor()
