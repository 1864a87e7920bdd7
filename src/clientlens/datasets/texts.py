"""Short service messages, subjects and feedback comments in English, French, Polish and Vietnamese."""

from __future__ import annotations

import numpy as np

#: the shop's service agents and the language each one answers in
AGENTS: tuple[tuple[str, str], ...] = (
    ("Emma Clarke", "en"), ("James Patel", "en"), ("Sophie Turner", "en"), ("Oliver Hughes", "en"),
    ("Camille Lefèvre", "fr"), ("Agnieszka Wiśniewska", "pl"), ("Tomasz Dąbrowski", "pl"),
    ("Nguyễn Thu Trang", "vi"),
)

SUBJECTS: dict[str, dict[str, str]] = {
    "delivery": {"en": "Where is my order?", "fr": "Où en est ma commande ?", "pl": "Gdzie jest moje zamówienie?",
                 "vi": "Đơn hàng của tôi đang ở đâu?"},
    "return": {"en": "Returning an item", "fr": "Retour d'un article", "pl": "Zwrot produktu",
               "vi": "Trả lại sản phẩm"},
    "invoice": {"en": "Invoice request", "fr": "Demande de facture", "pl": "Prośba o fakturę",
                "vi": "Yêu cầu hóa đơn"},
    "product": {"en": "Question about a product", "fr": "Question sur un produit", "pl": "Pytanie o produkt",
                "vi": "Câu hỏi về sản phẩm"},
    "complaint": {"en": "Complaint: damaged item", "fr": "Réclamation : article abîmé",
                  "pl": "Reklamacja: uszkodzony towar", "vi": "Khiếu nại: hàng bị hỏng"},
}

_OPEN: dict[str, dict[str, str]] = {
    "delivery": {"en": "Hello, my order has not arrived yet. Could you check where it is?",
                 "fr": "Bonjour, ma commande n'est toujours pas arrivée. Pouvez-vous vérifier où elle en est ?",
                 "pl": "Dzień dobry, moje zamówienie jeszcze nie dotarło. Czy mogą Państwo sprawdzić, gdzie jest?",
                 "vi": "Xin chào, đơn hàng của tôi vẫn chưa đến. Bạn có thể kiểm tra giúp tôi không?"},
    "return": {"en": "Hi, I would like to return an item from my last order.",
               "fr": "Bonjour, je souhaite retourner un article de ma dernière commande.",
               "pl": "Dzień dobry, chciałbym zwrócić produkt z ostatniego zamówienia.",
               "vi": "Xin chào, tôi muốn trả lại một sản phẩm trong đơn hàng gần nhất."},
    "invoice": {"en": "Good morning, please send us a VAT invoice for our order.",
                "fr": "Bonjour, merci de nous envoyer une facture avec TVA pour notre commande.",
                "pl": "Dzień dobry, proszę o przesłanie faktury VAT do naszego zamówienia.",
                "vi": "Chào anh chị, vui lòng gửi cho chúng tôi hóa đơn VAT của đơn hàng."},
    "product": {"en": "Hello, is this product available in another size or colour?",
                "fr": "Bonjour, ce produit existe-t-il dans une autre taille ou couleur ?",
                "pl": "Dzień dobry, czy ten produkt jest dostępny w innym rozmiarze lub kolorze?",
                "vi": "Xin chào, sản phẩm này có kích cỡ hoặc màu khác không?"},
    "complaint": {"en": "The item I received is damaged. I am very disappointed.",
                  "fr": "L'article reçu est abîmé. Je suis très déçu.",
                  "pl": "Otrzymany towar jest uszkodzony. Jestem bardzo rozczarowany.",
                  "vi": "Sản phẩm tôi nhận được bị hỏng. Tôi rất thất vọng."},
}
_GENERIC: dict[str, dict[str, str]] = {
    "followup": {"en": "Thanks. Any news on this?", "fr": "Merci. Avez-vous du nouveau ?",
                 "pl": "Dziękuję. Czy są jakieś nowe informacje?", "vi": "Cảm ơn. Có tin gì mới không ạ?"},
    "reply": {"en": "Thank you for your message, we are looking into it and will come back to you shortly.",
              "fr": "Merci pour votre message, nous vérifions et revenons vers vous très vite.",
              "pl": "Dziękujemy za wiadomość, sprawdzamy to i wkrótce odpowiemy.",
              "vi": "Cảm ơn bạn đã liên hệ, chúng tôi đang kiểm tra và sẽ phản hồi sớm."},
    "resolve": {"en": "All sorted: we have taken care of it. Is there anything else we can do?",
                "fr": "C'est réglé : nous nous en sommes occupés. Pouvons-nous faire autre chose ?",
                "pl": "Sprawa załatwiona. Czy możemy jeszcze w czymś pomóc?",
                "vi": "Đã giải quyết xong. Chúng tôi có thể giúp gì thêm không?"},
}
_COMMENTS: dict[str, dict[str, str]] = {
    "good": {"en": "Quick and friendly service, thank you!", "fr": "Service rapide et agréable, merci !",
             "pl": "Szybka i miła obsługa, dziękuję!", "vi": "Dịch vụ nhanh và thân thiện, cảm ơn!"},
    "mid": {"en": "OK, but it took a while.", "fr": "Correct, mais c'était un peu long.",
            "pl": "W porządku, ale trwało to dość długo.", "vi": "Ổn, nhưng hơi lâu."},
    "bad": {"en": "Far too slow, nobody answered for days.", "fr": "Beaucoup trop lent, personne n'a répondu pendant des jours.",
            "pl": "Zdecydowanie za wolno, nikt nie odpowiadał przez kilka dni.",
            "vi": "Quá chậm, nhiều ngày không ai trả lời."},
}


def subject_text(topic: str, language: str) -> str:
    """Subject line of a thread about ``topic`` in ``language``."""
    return SUBJECTS[topic].get(language, SUBJECTS[topic]["en"])


def message_text(kind: str, topic: str, language: str, rng: np.random.Generator) -> str:
    """Body of a message: ``open`` (customer's first), ``followup``, ``reply`` or ``resolve`` (agent)."""
    table = _OPEN[topic] if kind == "open" else _GENERIC[kind]
    return table.get(language, table["en"])


def comment_text(kind: str, score: int, language: str, rng: np.random.Generator) -> str | None:
    """A feedback comment (about half of the answers leave none)."""
    if rng.random() < 0.5:
        return None
    good, bad = (4, 2) if kind == "csat" else (9, 6)
    band = "good" if score >= good else ("bad" if score <= bad else "mid")
    return _COMMENTS[band].get(language, _COMMENTS[band]["en"])
