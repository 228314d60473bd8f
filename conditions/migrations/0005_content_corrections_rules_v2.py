"""Carry the safety corrections of 2026-11-26 (triage rules version 2) to existing sites.

The library is loaded once per database (0002_load_library, 0004_load_spanish_library)
and then belongs to the clinic. This revision of conditions/content/library.toml and
library.es.toml corrects text that disagreed with triage rules version 2 or with the
evidence (REFERENCES.md): the cauda equina page's "24 to 48 hours" window, pages that
sent patients to an emergency department for signs triage rates as urgent (pain down
both legs, sexual problems alone, unsure answers), and the stenosis and
spondylolisthesis pages that gave bladder problems as a reason for planned surgery.

A database created from now on already gets the corrected text from 0002 and 0004, so
this migration finds nothing to do there. On an existing database it changes, for
every shipped page:

- each field (English or Spanish) that still holds exactly the text as shipped before
  this revision (``SHIPPED_BEFORE`` below) to the text now in the files. Line endings
  are ignored when comparing, because saving a page in the admin turns them into
  CRLF without changing a word.
- nothing that staff have edited in the admin. Staff own an edited field, so it is
  left for them to correct by hand against the files; the migration prints which
  fields it left ("left for staff"), and the deploy notes must pass that on.
- the Spanish version, filled in as 0004 would have done, if the page has no Spanish
  yet and its English is now the shipped text (0004 skips pages whose English does
  not match the file, which was the case for a site loaded before this revision).
- ``reviewed_on``, set to the page's date in library.toml when the whole page (all
  English text, and the Spanish text or none) is now exactly the shipped content and
  its date is older or empty: the date says when the content on the page was checked,
  so a page that still holds staff's own text keeps the date staff gave it.

Each page changed gets one history row (django-simple-history), so its admin history
shows what changed and why. The historical models (apps.get_model) are used, so this
keeps working after the models change.

Reversing is a no-op on purpose: rolling the code back must not put the unsafe text
back in front of patients. The history rows keep the earlier text for staff.
"""

import tomllib
from pathlib import Path

from django.db import migrations
from django.utils import timezone

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
ENGLISH_FILE = CONTENT_DIR / "library.toml"
SPANISH_FILE = CONTENT_DIR / "library.es.toml"

CHANGE_REASON = "Safety corrections for triage rules version 2 (library of 2026-11-26)"

#: The text patients read (``<name>`` in English, ``<name>_es`` in Spanish).
TEXT_FIELDS = (
    "title",
    "summary",
    "what_it_is",
    "symptoms",
    "causes",
    "assessment",
    "treatment",
    "urgent_help",
)

#: Every field this revision changes, with the text it held as shipped by 0002
#: (English) and 0004 (Spanish) before it. A field holding anything else was
#: edited by staff and is never touched.
SHIPPED_BEFORE: dict[str, dict[str, str]] = tomllib.loads(
    r'''
["lumbar-radiculopathy-sciatica"]
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new numbness of your genitals or new problems with sex
- weakness in both legs, or pain shooting down both legs

Contact your clinician the same day if weakness in your leg is getting worse, or if your foot starts to drop or slap when you walk.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- adormecimiento nuevo de los genitales o problemas nuevos en las relaciones sexuales
- debilidad en ambas piernas, o dolor que baja por ambas piernas

Comuníquese con su profesional de salud el mismo día si la debilidad de la pierna está empeorando, o si el pie empieza a caerse o a golpear el suelo al caminar.
"""

["lumbar-disc-herniation"]
symptoms = """
- pain that spreads from the lower back or buttock down one leg, sometimes into the foot
- numbness, tingling or pins and needles in the leg or foot
- weakness in some leg muscles, for example trouble lifting the front of the foot, so the toes catch when you walk (foot drop)
- back pain, although some people have little or none

A large disc bulge in the middle of the spine can press on many nerve roots at once. This can cause symptoms in both legs and problems with the bladder or bowel. This is an emergency called cauda equina syndrome. See “When to get urgent help” below.
"""
symptoms_es = """
- dolor que se extiende desde la parte baja de la espalda o la nalga hacia abajo por una pierna, a veces hasta el pie
- adormecimiento, hormigueo o pinchazos en la pierna o el pie
- debilidad en algunos músculos de la pierna; por ejemplo, dificultad para levantar la punta del pie, de modo que los dedos tropiezan con el suelo al caminar (pie caído)
- dolor de espalda, aunque algunas personas tienen poco o nada

Una hernia grande en el centro de la columna puede apretar muchas raíces nerviosas a la vez. Esto puede causar síntomas en ambas piernas y problemas con la vejiga o el intestino. Esta es una emergencia llamada síndrome de cauda equina. Vea “Cuándo buscar ayuda urgente” más abajo.
"""
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new numbness of your genitals or new problems with sex
- weakness in both legs, or pain shooting down both legs

Contact your clinician the same day if weakness in your leg is getting worse, or your foot starts to drop or slap when you walk.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- adormecimiento nuevo de los genitales o problemas nuevos en las relaciones sexuales
- debilidad en ambas piernas, o dolor que baja por ambas piernas

Comuníquese con su profesional de salud el mismo día si la debilidad de la pierna está empeorando, o si el pie empieza a caerse o a golpear el suelo al caminar.
"""

["spinal-stenosis"]
treatment = """
Treatment usually starts without surgery:
- pain relief medicines, such as anti-inflammatory medicines if they are safe for you
- exercises, often bending-forward (flexion) and strengthening exercises, with help from a physiotherapist
- staying active within what you can manage, with rests when you need them
- sometimes an injection of steroid medicine near the nerves (an epidural injection)

If walking stays very limited, or numbness or weakness gets worse, a spine surgeon may talk with you about an operation. The operation makes more room for the nerves. It is called a decompression.

People who have nerve symptoms, such as leg pain on walking or bladder problems, are more likely to get worse over time without surgery. Your clinician can explain the benefits and risks for you.
"""
treatment_es = """
El tratamiento suele empezar sin cirugía:
- medicamentos para el dolor, como antiinflamatorios si son seguros para usted
- ejercicios, muchas veces de inclinarse hacia adelante (flexión) y de fortalecimiento, con la ayuda de un fisioterapeuta
- mantener la actividad dentro de lo que pueda hacer, con descansos cuando los necesite
- a veces, una inyección de un medicamento esteroide cerca de los nervios (inyección epidural)

Si la capacidad para caminar sigue muy limitada, o si el adormecimiento o la debilidad empeoran, un cirujano de columna puede hablar con usted sobre una operación. La operación da más espacio a los nervios. Se llama descompresión.

Las personas que tienen síntomas de los nervios, como dolor de piernas al caminar o problemas de vejiga, tienen más probabilidad de empeorar con el tiempo sin cirugía. Su profesional de salud puede explicarle los beneficios y los riesgos en su caso.
"""
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new numbness of your genitals or new problems with sex
- new weakness in both legs, or weakness that is quickly getting worse

Contact your clinician the same day if your legs are getting weaker, or you have started to fall.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- adormecimiento nuevo de los genitales o problemas nuevos en las relaciones sexuales
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

Comuníquese con su profesional de salud el mismo día si sus piernas se están debilitando más, o si ha empezado a caerse.
"""

["spondylolisthesis"]
symptoms = """
Symptoms vary from person to person. They can include:
- low back pain
- pain, numbness or tingling in the buttock or leg
- leg pain or heaviness when walking that eases when you sit or bend forward (neurogenic claudication)
- rarely, problems with bladder or bowel control
"""
symptoms_es = """
Los síntomas varían de una persona a otra. Pueden incluir:
- dolor en la parte baja de la espalda
- dolor, adormecimiento u hormigueo en la nalga o en la pierna
- dolor o pesadez en las piernas al caminar, que se alivia al sentarse o al inclinarse hacia adelante (claudicación neurógena)
- en raras ocasiones, problemas para controlar la vejiga o el intestino
"""
treatment = """
For most people the outlook is good. Treatment without surgery is the usual first step, even when there are nerve symptoms:
- pain relief medicines, such as anti-inflammatory medicines if they are safe for you
- exercises to strengthen the muscles of the trunk, often bending-forward (flexion) exercises, with help from a physiotherapist
- sometimes a back brace
- sometimes an injection of steroid medicine near the nerves (an epidural injection)

Surgery may be considered when nerve symptoms are severe or getting worse. People with leg pain on walking, or with bladder or bowel problems, are more likely to get worse over time without an operation. Your clinician can explain the benefits and risks for you.
"""
treatment_es = """
Para la mayoría de las personas, el pronóstico es bueno. El primer paso habitual es el tratamiento sin cirugía, incluso cuando hay síntomas de los nervios:
- medicamentos para el dolor, como antiinflamatorios si son seguros para usted
- ejercicios para fortalecer los músculos del tronco, muchas veces de inclinarse hacia adelante (flexión), con la ayuda de un fisioterapeuta
- a veces, una faja o un corsé para la espalda
- a veces, una inyección de un medicamento esteroide cerca de los nervios (inyección epidural)

Se puede considerar una cirugía cuando los síntomas de los nervios son fuertes o están empeorando. Las personas con dolor de piernas al caminar, o con problemas de vejiga o de intestino, tienen más probabilidad de empeorar con el tiempo sin una operación. Su profesional de salud puede explicarle los beneficios y los riesgos en su caso.
"""
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new numbness of your genitals or new problems with sex
- new weakness in both legs, or weakness that is quickly getting worse

Contact your clinician the same day if leg weakness or numbness is getting worse.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- adormecimiento nuevo de los genitales o problemas nuevos en las relaciones sexuales
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

Comuníquese con su profesional de salud el mismo día si la debilidad o el adormecimiento de la pierna están empeorando.
"""

["cauda-equina-syndrome"]
symptoms = """
Warning signs include:
- numbness, tingling or a strange feeling between your legs, around your back passage (anus) or genitals, or on your inner thighs or buttocks; a small patch, or one side only, still counts
- feeling different when you wipe yourself with toilet paper
- a new problem passing urine: not being able to go, having to strain to start, a weak stream, or not feeling when your bladder is full or when urine is passing
- new leaking of urine, or needing pads because of new leaking
- new loss of control of your bowels, or not feeling when your bowel is full
- new numbness of your genitals, or new problems with sexual function
- pain, numbness or weakness in both legs, or weakness that is quickly getting worse

Any one of these signs is enough to get help. You do not need to have all of them.
"""
symptoms_es = """
Las señales de alarma incluyen:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas; también cuenta si es solo una zona pequeña o de un solo lado
- sentir algo distinto al limpiarse con papel higiénico
- un problema nuevo para orinar: no poder orinar, tener que hacer fuerza para empezar, un chorro débil, o no sentir cuando la vejiga está llena o cuando sale la orina
- nuevas pérdidas de orina (se le escapa la orina), o necesitar toallas sanitarias o pañales por esas pérdidas nuevas
- nueva pérdida del control del intestino, o no sentir cuando el intestino está lleno
- adormecimiento nuevo de los genitales, o problemas nuevos con la función sexual
- dolor, adormecimiento o debilidad en ambas piernas, o debilidad que empeora rápidamente

Basta con una sola de estas señales para buscar ayuda. No necesita tenerlas todas.
"""
treatment = """
Cauda equina syndrome is usually treated with an operation that takes the pressure off the nerves. This is called decompression surgery.

Guidance for spine surgeons advises treatment within 24 to 48 hours of the symptoms starting, to give the nerves the best chance of working again. If the bladder has started to stop working, the operation is treated as an emergency, by day or by night. This is why it is so important to get help as soon as you notice the warning signs.

After surgery, some people need more help with their bladder, bowel, sexual function or walking. Your care team can arrange this support.
"""
treatment_es = """
El síndrome de cauda equina suele tratarse con una operación que quita la presión sobre los nervios. Se llama cirugía de descompresión.

Las guías para cirujanos de columna recomiendan dar el tratamiento dentro de las 24 a 48 horas después de que empiezan los síntomas, para que los nervios tengan la mejor oportunidad de volver a funcionar. Si la vejiga ya ha empezado a dejar de funcionar, la operación se trata como una emergencia, de día o de noche. Por eso es tan importante buscar ayuda en cuanto note las señales de alarma.

Después de la cirugía, algunas personas necesitan más ayuda con la vejiga, el intestino, la función sexual o para caminar. Su equipo de atención puede organizar este apoyo.
"""
urgent_help = """
Go to the nearest emergency department now, or call the emergency number, if you have any of these:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new numbness of your genitals or new problems with sex
- new weakness in both legs, or weakness that is quickly getting worse

Do not wait for your clinic appointment. Do not wait to see if it gets better. Tell the staff that you are worried about cauda equina syndrome.
"""
urgent_help_es = """
Vaya ahora a la sala de emergencias más cercana, o llame al número de emergencias, si tiene cualquiera de estos síntomas:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- adormecimiento nuevo de los genitales o problemas nuevos en las relaciones sexuales
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

No espere a su cita en la clínica. No espere a ver si mejora. Dígale al personal que le preocupa tener síndrome de cauda equina.
"""

["diabetic-neuropathy"]
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, such as not being able to go, having to strain, or not feeling when your bladder is full
- new leaking of urine, or new loss of control of your bowels
- new weakness in both legs, or weakness that is quickly getting worse

Contact your clinician or diabetes team quickly if you find a wound on your foot that is not healing, or if numbness or weakness is spreading fast.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, como no poder orinar, tener que hacer fuerza, o no sentir cuando la vejiga está llena
- nuevas pérdidas de orina (se le escapa la orina), o nueva pérdida del control del intestino
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

Comuníquese pronto con su profesional de salud o con su equipo de diabetes si encuentra una herida en el pie que no sana, o si el adormecimiento o la debilidad se extienden rápidamente.
"""

["entrapment-neuropathy"]
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, or new loss of control of your bladder or bowels
- new weakness in both legs, or weakness that is quickly getting worse

Contact your clinician the same day if your foot suddenly starts to drop or slap when you walk.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, o nueva pérdida del control de la vejiga o del intestino
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

Comuníquese con su profesional de salud el mismo día si de repente el pie empieza a caerse o a golpear el suelo al caminar.
"""

["muscle-weakness-other-causes"]
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, or new loss of control of your bladder or bowels
- new weakness in both legs, or weakness that is quickly getting worse

Also call the emergency number or go to an emergency department now if weakness is spreading quickly up your body or into your arms, or if you have trouble breathing or swallowing.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, o nueva pérdida del control de la vejiga o del intestino
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

También llame al número de emergencias o vaya ahora a una sala de emergencias si la debilidad se extiende rápidamente hacia arriba por el cuerpo o hacia los brazos, o si tiene dificultad para respirar o para tragar.
"""

["sacroiliac-joint-dysfunction"]
urgent_help = """
Go to an emergency department now if you have any of these. They can be signs of cauda equina syndrome, which needs treatment straight away:
- numbness, tingling or a strange feeling between your legs, around your back passage or genitals, or on your inner thighs or buttocks
- new problems passing urine, or new loss of control of your bladder or bowels
- new weakness in both legs, or weakness that is quickly getting worse

Contact your clinician the same day if you have back pain with a fever or feel very unwell, or if you have had cancer and get new back pain.
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si tiene cualquiera de estos síntomas. Pueden ser señales del síndrome de cauda equina, que necesita tratamiento de inmediato:
- adormecimiento, hormigueo o una sensación extraña entre las piernas, alrededor del ano o de los genitales, o en la parte interna de los muslos o en las nalgas
- problemas nuevos para orinar, o nueva pérdida del control de la vejiga o del intestino
- debilidad nueva en ambas piernas, o debilidad que empeora rápidamente

Comuníquese con su profesional de salud el mismo día si tiene dolor de espalda con fiebre o se siente muy mal, o si ha tenido cáncer y tiene un dolor de espalda nuevo.
"""

["spinal-tumour"]
urgent_help = """
If you have had cancer, or have been told you may have cancer, and you get new back or neck pain, contact your cancer team or clinician the same day.

Go to an emergency department now, or call the emergency number, if you have any of these:
- new weakness or heaviness in both legs, in one leg or in your arms, or new difficulty walking
- new numbness or tingling in your legs, your body, or between your legs, around your back passage or genitals
- new problems controlling your bladder or bowels

Do not wait for your appointment.
"""
urgent_help_es = """
Si ha tenido cáncer, o le han dicho que podría tener cáncer, y tiene un dolor nuevo de espalda o de cuello, comuníquese con su equipo de oncología o con su profesional de salud el mismo día.

Vaya ahora a una sala de emergencias, o llame al número de emergencias, si tiene cualquiera de estos síntomas:
- debilidad o pesadez nueva en ambas piernas, en una pierna o en los brazos, o dificultad nueva para caminar
- adormecimiento u hormigueo nuevo en las piernas, en el cuerpo, o entre las piernas, alrededor del ano o de los genitales
- problemas nuevos para controlar la vejiga o el intestino

No espere a su cita.
"""

["direct-nerve-trauma"]
urgent_help = """
Go to an emergency department now if, after an injury:
- you have a wound with numbness or weakness below it
- a plaster cast feels too tight, with pain that keeps getting worse, or toes that are numb, pale or blue
- after a fall or a back injury, you have new weakness in both legs, numbness between your legs or around your back passage or genitals, or new problems with your bladder or bowels
"""
urgent_help_es = """
Vaya ahora a una sala de emergencias si, después de una lesión:
- tiene una herida con adormecimiento o debilidad por debajo de ella
- un yeso se siente demasiado apretado, con un dolor que sigue empeorando, o con dedos adormecidos, pálidos o azulados
- después de una caída o una lesión de espalda, tiene debilidad nueva en ambas piernas, adormecimiento entre las piernas o alrededor del ano o de los genitales, o problemas nuevos con la vejiga o el intestino
"""
'''
)


def _read(path: Path) -> dict[str, dict]:
    with path.open("rb") as handle:
        return {entry["slug"]: entry for entry in tomllib.load(handle)["conditions"]}


def _normal(text: str | None) -> str:
    """Text as compared: admin edits store CRLF line endings and trim the ends."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _shipped_text(english: dict, spanish: dict | None) -> dict[str, str]:
    """The page's text as the files ship it now, by field name (``title``, ``title_es``)."""
    text = {name: _normal(english[name]) for name in TEXT_FIELDS}
    if spanish is not None:
        text.update({f"{name}_es": _normal(spanish[name]) for name in TEXT_FIELDS})
    return text


def _holds(condition, names, text: dict[str, str]) -> bool:
    return all(_normal(getattr(condition, name)) == text.get(name) for name in names)


def _spanish_names() -> tuple[str, ...]:
    return tuple(f"{name}_es" for name in TEXT_FIELDS)


def _spanish_is_empty(condition) -> bool:
    return not any(_normal(getattr(condition, name)) for name in _spanish_names())


def _is_as_shipped(condition, text: dict[str, str]) -> bool:
    """The whole page is the shipped content: all its English, and its Spanish or none."""
    if not _holds(condition, TEXT_FIELDS, text):
        return False
    return _spanish_is_empty(condition) or _holds(condition, _spanish_names(), text)


def correct_library(apps, schema_editor):
    Condition = apps.get_model("conditions", "Condition")
    HistoricalCondition = apps.get_model("conditions", "HistoricalCondition")
    english = _read(ENGLISH_FILE)
    spanish = _read(SPANISH_FILE)
    now = timezone.now()
    left_for_staff = []
    for slug, entry in english.items():
        condition = Condition.objects.filter(slug=slug).first()
        if condition is None:
            continue  # staff deleted the page
        shipped = _shipped_text(entry, spanish.get(slug))
        changed_text = []

        for name, before in SHIPPED_BEFORE.get(slug, {}).items():
            current = _normal(getattr(condition, name))
            if name not in shipped or current == shipped[name]:
                continue  # already corrected (a database created after this revision)
            if current == _normal(before):
                setattr(condition, name, shipped[name])
                changed_text.append(name)
            elif current or not name.endswith("_es"):
                left_for_staff.append(f"{slug}: {name}")
            # An empty Spanish field: the page has no Spanish yet (see below).

        spanish_names = _spanish_names()
        if (
            slug in spanish
            and _spanish_is_empty(condition)
            and _holds(condition, TEXT_FIELDS, shipped)
        ):
            for name in spanish_names:
                setattr(condition, name, shipped[name])
            changed_text += [name for name in spanish_names if name not in changed_text]

        changed = list(changed_text)
        reviewed_on = entry.get("reviewed_on")
        if (
            reviewed_on is not None
            and (condition.reviewed_on is None or condition.reviewed_on < reviewed_on)
            and _is_as_shipped(condition, shipped)
        ):
            condition.reviewed_on = reviewed_on
            changed.append("reviewed_on")

        if not changed:
            continue
        # "Last updated" moves only when the text patients read changed.
        condition.save(update_fields=changed + (["updated_at"] if changed_text else []))
        values = {
            field.attname: getattr(condition, field.attname)
            for field in Condition._meta.concrete_fields
        }
        HistoricalCondition.objects.create(
            **values,
            history_date=now,
            history_type="~",
            history_change_reason=CHANGE_REASON,
        )

    if left_for_staff:
        print(
            "\n  conditions: these fields were edited by staff, so the safety corrections of "
            "2026-11-26 were NOT applied to them. Ask the clinic to correct them in the admin "
            "against conditions/content/library.toml and library.es.toml:\n    "
            + "\n    ".join(left_for_staff)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conditions", "0004_load_spanish_library"),
    ]

    operations = [
        # Reversing leaves the corrected text in place (see the docstring).
        migrations.RunPython(correct_library, migrations.RunPython.noop),
    ]
